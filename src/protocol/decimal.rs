//! Decimal formatting and strict parsing of the numbers in text commands and replies.

use super::ProtocolError;

/// Appends `value` in decimal, without allocating beyond `out`.
pub(super) fn push_u64(out: &mut Vec<u8>, mut value: u64) {
    // u64::MAX has 20 digits.
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        // The remainder is below 10, so the cast cannot truncate.
        digits[start] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[start..]);
}

/// Appends `value` in decimal with a leading `-` when negative.
pub(super) fn push_i64(out: &mut Vec<u8>, value: i64) {
    if value < 0 {
        out.push(b'-');
    }
    push_u64(out, value.unsigned_abs());
}

/// Parses a non-empty run of ASCII digits with no sign, spaces or other bytes.
///
/// Returns `Malformed` for an empty field or any non-digit byte, and `NumberOutOfRange` when
/// the digits exceed `u64::MAX`.
pub(super) fn parse_u64(field: &[u8]) -> Result<u64, ProtocolError> {
    if field.is_empty() {
        return Err(ProtocolError::Malformed);
    }
    let mut value: u64 = 0;
    let mut overflow = false;
    for &byte in field {
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 {
            return Err(ProtocolError::Malformed);
        }
        // Keep scanning after an overflow: a non-digit later still makes the field Malformed.
        match value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(digit)))
        {
            Some(next) => value = next,
            None => overflow = true,
        }
    }
    if overflow {
        return Err(ProtocolError::NumberOutOfRange);
    }
    Ok(value)
}

/// Parses like [`parse_u64`] and also rejects values above `u32::MAX` with `NumberOutOfRange`.
pub(super) fn parse_u32(field: &[u8]) -> Result<u32, ProtocolError> {
    let value = parse_u64(field)?;
    u32::try_from(value).map_err(|_| ProtocolError::NumberOutOfRange)
}

/// Parses an optional `-` followed by digits, as [`parse_u64`] does for the digits.
pub(super) fn parse_i64(field: &[u8]) -> Result<i64, ProtocolError> {
    match field.split_first() {
        Some((b'-', magnitude)) => {
            let magnitude = parse_u64(magnitude)?;
            0i64.checked_sub_unsigned(magnitude)
                .ok_or(ProtocolError::NumberOutOfRange)
        }
        _ => {
            let value = parse_u64(field)?;
            i64::try_from(value).map_err(|_| ProtocolError::NumberOutOfRange)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn formatted_u64(value: u64) -> Vec<u8> {
        let mut out = Vec::new();
        push_u64(&mut out, value);
        out
    }

    fn formatted_i64(value: i64) -> Vec<u8> {
        let mut out = Vec::new();
        push_i64(&mut out, value);
        out
    }

    #[test]
    fn push_u64_matches_display() {
        for value in [0, 1, 9, 10, 99, 100, 4_294_967_295, u64::MAX - 1, u64::MAX] {
            assert_eq!(formatted_u64(value), value.to_string().into_bytes());
        }
    }

    #[test]
    fn push_i64_matches_display() {
        for value in [0, -1, 1, -10, i64::MIN, i64::MIN + 1, i64::MAX] {
            assert_eq!(formatted_i64(value), value.to_string().into_bytes());
        }
    }

    #[test]
    fn parse_u64_limits() {
        assert_eq!(parse_u64(b"0"), Ok(0));
        assert_eq!(parse_u64(b"007"), Ok(7));
        assert_eq!(parse_u64(b"18446744073709551615"), Ok(u64::MAX));
        assert_eq!(
            parse_u64(b"18446744073709551616"),
            Err(ProtocolError::NumberOutOfRange)
        );
        assert_eq!(
            parse_u64(b"99999999999999999999999999"),
            Err(ProtocolError::NumberOutOfRange)
        );
    }

    #[test]
    fn parse_u64_rejects_non_digits() {
        for field in [&b""[..], b" 1", b"1 ", b"+1", b"-1", b"1x", b"0x10"] {
            assert_eq!(parse_u64(field), Err(ProtocolError::Malformed), "{field:?}");
        }
    }

    #[test]
    fn parse_u32_limits() {
        assert_eq!(parse_u32(b"4294967295"), Ok(u32::MAX));
        assert_eq!(
            parse_u32(b"4294967296"),
            Err(ProtocolError::NumberOutOfRange)
        );
    }

    #[test]
    fn parse_i64_limits() {
        assert_eq!(parse_i64(b"-9223372036854775808"), Ok(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775807"), Ok(i64::MAX));
        assert_eq!(
            parse_i64(b"9223372036854775808"),
            Err(ProtocolError::NumberOutOfRange)
        );
        assert_eq!(
            parse_i64(b"-9223372036854775809"),
            Err(ProtocolError::NumberOutOfRange)
        );
        assert_eq!(parse_i64(b"-"), Err(ProtocolError::Malformed));
        assert_eq!(parse_i64(b"--1"), Err(ProtocolError::Malformed));
    }
}
