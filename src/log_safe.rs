//! Values from the network, made fit for a log line.

/// Escapes and truncates a value from the network for a log line.
pub(crate) fn log_safe(value: &str) -> String {
    const MAX: usize = 64;
    let mut out: String = value
        .chars()
        .take(MAX)
        .flat_map(char::escape_debug)
        .collect();
    if value.chars().nth(MAX).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::log_safe;

    #[test]
    fn log_safe_escapes_and_truncates() {
        assert_eq!(log_safe("a\r\nb"), "a\\r\\nb");
        assert_eq!(log_safe(&"x".repeat(100)).chars().count(), 65);
    }
}
