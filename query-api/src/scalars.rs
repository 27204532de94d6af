use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};

/// A 64-bit integer (money in micros, versions). Sent as a JSON number: values up to 2^53 are
/// exact in JavaScript, and Adflow's budgets stay far below that.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Long(pub i64);

#[Scalar(name = "Long")]
impl ScalarType for Long {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::Number(n) => n
                .as_i64()
                .map(Long)
                .ok_or_else(|| InputValueError::custom("not a 64-bit integer")),
            Value::String(s) => s
                .parse()
                .map(Long)
                .map_err(|_| InputValueError::custom("not a 64-bit integer")),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::Number(self.0.into())
    }
}

impl Long {
    /// Counts and sums from ClickHouse are unsigned; none come near i64::MAX.
    pub fn from_u64(value: u64) -> Long {
        Long(i64::try_from(value).unwrap_or(i64::MAX))
    }
}
