//! Enough of GAQL for the queries a client sends: `SELECT fields FROM resource [WHERE cond AND …]
//! [ORDER BY field [ASC|DESC]] [LIMIT n]`, with `=`, `!=`, `>`, `<`, `>=`, `<=`, `IN (…)` and
//! `BETWEEN a AND b`.

#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Lt,
    Ge,
    Le,
    In,
    Between,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub field: String,
    pub op: Op,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub fields: Vec<String>,
    pub resource: String,
    pub conditions: Vec<Condition>,
    pub order_by: Option<(String, bool)>,
    pub limit: Option<usize>,
}

fn tokens(text: &str) -> Result<Vec<String>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '\'' || c == '"' {
            let mut value = String::from("'");
            i += 1;
            while i < chars.len() && chars[i] != c {
                if chars[i] == '\\' && i + 1 < chars.len() {
                    i += 1;
                }
                value.push(chars[i]);
                i += 1;
            }
            if i >= chars.len() {
                return Err("an unterminated string".into());
            }
            i += 1;
            out.push(value);
        } else if "(),".contains(c) {
            out.push(c.to_string());
            i += 1;
        } else if "=!<>".contains(c) {
            let mut op = c.to_string();
            if i + 1 < chars.len() && chars[i + 1] == '=' {
                op.push('=');
                i += 1;
            }
            out.push(op);
            i += 1;
        } else {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || "._-/~".contains(chars[i])) {
                i += 1;
            }
            if start == i {
                return Err(format!("unexpected character {c:?}"));
            }
            out.push(chars[start..i].iter().collect());
        }
    }
    Ok(out)
}

fn literal(token: &str) -> String {
    token.strip_prefix('\'').unwrap_or(token).to_owned()
}

pub fn parse(text: &str) -> Result<Query, String> {
    let tokens = tokens(text)?;
    let mut at = 0;
    let keyword =
        |at: usize, word: &str| tokens.get(at).is_some_and(|t| t.eq_ignore_ascii_case(word));
    if !keyword(0, "SELECT") {
        return Err("a query starts with SELECT".into());
    }
    at += 1;
    let mut fields = Vec::new();
    while at < tokens.len() && !keyword(at, "FROM") {
        if tokens[at] != "," {
            fields.push(tokens[at].clone());
        }
        at += 1;
    }
    if !keyword(at, "FROM") || fields.is_empty() {
        return Err("expected fields, then FROM".into());
    }
    let resource = tokens.get(at + 1).cloned().ok_or("FROM needs a resource")?;
    at += 2;
    let mut conditions = Vec::new();
    if keyword(at, "WHERE") {
        at += 1;
        loop {
            let field = tokens.get(at).cloned().ok_or("WHERE needs a condition")?;
            let op = tokens
                .get(at + 1)
                .map(|t| t.to_ascii_uppercase())
                .ok_or("a condition needs an operator")?;
            at += 2;
            let (op, values) = match op.as_str() {
                "IN" => {
                    if tokens.get(at).map(String::as_str) != Some("(") {
                        return Err("IN needs a list".into());
                    }
                    at += 1;
                    let mut values = Vec::new();
                    while at < tokens.len() && tokens[at] != ")" {
                        if tokens[at] != "," {
                            values.push(literal(&tokens[at]));
                        }
                        at += 1;
                    }
                    at += 1;
                    (Op::In, values)
                }
                "BETWEEN" => {
                    let low = tokens
                        .get(at)
                        .map(|t| literal(t))
                        .ok_or("BETWEEN needs two values")?;
                    if !keyword(at + 1, "AND") {
                        return Err("BETWEEN a AND b".into());
                    }
                    let high = tokens
                        .get(at + 2)
                        .map(|t| literal(t))
                        .ok_or("BETWEEN needs two values")?;
                    at += 3;
                    (Op::Between, vec![low, high])
                }
                other => {
                    let op = match other {
                        "=" => Op::Eq,
                        "!=" => Op::Ne,
                        ">" => Op::Gt,
                        "<" => Op::Lt,
                        ">=" => Op::Ge,
                        "<=" => Op::Le,
                        _ => return Err(format!("unknown operator {other}")),
                    };
                    let value = tokens
                        .get(at)
                        .map(|t| literal(t))
                        .ok_or("a condition needs a value")?;
                    at += 1;
                    (op, vec![value])
                }
            };
            conditions.push(Condition { field, op, values });
            if keyword(at, "AND") {
                at += 1;
            } else {
                break;
            }
        }
    }
    let mut order_by = None;
    if keyword(at, "ORDER") && keyword(at + 1, "BY") {
        let field = tokens
            .get(at + 2)
            .cloned()
            .ok_or("ORDER BY needs a field")?;
        at += 3;
        let descending = keyword(at, "DESC");
        if descending || keyword(at, "ASC") {
            at += 1;
        }
        order_by = Some((field, descending));
    }
    let mut limit = None;
    if keyword(at, "LIMIT") {
        limit = Some(
            tokens
                .get(at + 1)
                .and_then(|t| t.parse().ok())
                .ok_or("LIMIT needs a number")?,
        );
        at += 2;
    }
    if at < tokens.len() {
        return Err(format!("unexpected {}", tokens[at]));
    }
    Ok(Query {
        fields,
        resource,
        conditions,
        order_by,
        limit,
    })
}

impl Condition {
    /// Whether a row's value (as text) meets the condition.
    pub fn holds(&self, value: &str) -> bool {
        let first = self.values.first().map(String::as_str).unwrap_or_default();
        let numeric = |a: &str, b: &str| match (a.parse::<f64>(), b.parse::<f64>()) {
            (Ok(a), Ok(b)) => a.partial_cmp(&b),
            _ => Some(a.cmp(b)),
        };
        use std::cmp::Ordering::*;
        match self.op {
            Op::Eq => value == first,
            Op::Ne => value != first,
            Op::In => self.values.iter().any(|v| v == value),
            Op::Gt => numeric(value, first) == Some(Greater),
            Op::Lt => numeric(value, first) == Some(Less),
            Op::Ge => matches!(numeric(value, first), Some(Greater | Equal)),
            Op::Le => matches!(numeric(value, first), Some(Less | Equal)),
            Op::Between => {
                let last = self.values.get(1).map(String::as_str).unwrap_or_default();
                matches!(numeric(value, first), Some(Greater | Equal))
                    && matches!(numeric(value, last), Some(Less | Equal))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_the_client_sends() {
        let q = parse(
            "SELECT campaign.id, metrics.clicks FROM keyword_view WHERE campaign.resource_name = 'customers/1/campaigns/2' \
             AND segments.date BETWEEN '2026-01-01' AND '2026-01-07' AND campaign.status != 'REMOVED' ORDER BY campaign.id DESC LIMIT 5",
        )
        .unwrap();
        assert_eq!(q.fields, vec!["campaign.id", "metrics.clicks"]);
        assert_eq!(q.resource, "keyword_view");
        assert_eq!(q.conditions.len(), 3);
        assert_eq!(q.conditions[1].values, vec!["2026-01-01", "2026-01-07"]);
        assert_eq!(q.order_by, Some(("campaign.id".into(), true)));
        assert_eq!(q.limit, Some(5));
        assert!(q.conditions[1].holds("2026-01-03") && !q.conditions[1].holds("2026-01-08"));
        assert!(parse("SELECT FROM x").is_err());
        assert!(parse("SELECT a FROM b WHERE c = 'open").is_err());
        let quoted =
            parse(r"SELECT campaign.id FROM campaign WHERE campaign.name = 'It\'s [adflow 1]'")
                .unwrap();
        assert_eq!(quoted.conditions[0].values[0], "It's [adflow 1]");
    }
}
