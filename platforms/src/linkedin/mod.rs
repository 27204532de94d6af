pub const DEFAULT_VERSION: &str = "202511";
