//! Scalars as Kubernetes decodes them.
//!
//! `kubectl`, the API server and Flux's controllers read YAML through `sigs.k8s.io/yaml`, which
//! decodes with go-yaml v2 (`go.yaml.in/yaml/v2`, `resolve.go`) and then converts the result to
//! JSON (`YAMLToJSON`). Both steps shape a value: go-yaml v2 resolves plain scalars by YAML 1.1
//! rules (`yes` is a boolean, `0755` octal, `08` a float), and the JSON round trip turns every
//! float without a fraction into an integer (`json.Marshal(2.0)` is `2`), while `.nan` and `.inf`
//! cannot be written as JSON at all. [`resolve_plain`] and [`resolve_tagged`] do the first step,
//! [`json_number`] the second.

use crate::node::Value;

/// How a plain scalar reads to Kubernetes, and whether YAML 1.2 (what most editors and
/// linters assume) reads the same text differently.
pub(crate) struct Resolved {
    pub value: Value,
    /// Set when YAML 1.2's core schema would read the text as something else: what Kubernetes
    /// reads instead (`the boolean \`true\``).
    pub differs_from_yaml12: Option<String>,
}

fn plain(value: Value) -> Resolved {
    Resolved {
        value,
        differs_from_yaml12: None,
    }
}

const LONG_TAG: &str = "tag:yaml.org,2002:";

/// A scalar with an explicit tag (`!!int "3"`, `!!str 3`, `!custom x`). `Err` is go-yaml's
/// complaint for a value the tag cannot hold.
pub(crate) fn resolve_tagged(tag: &str, text: &str) -> Result<Value, String> {
    let short = tag.strip_prefix(LONG_TAG).map(|s| format!("!!{s}"));
    let wanted = match tag.strip_prefix(LONG_TAG) {
        Some(t @ ("str" | "bool" | "int" | "float" | "null" | "timestamp" | "binary")) => t,
        // Custom and non-specific (`!`) tags keep the text: go-yaml returns it as a string.
        _ => return Ok(Value::Str(text.into())),
    };
    match wanted {
        "str" | "timestamp" => return Ok(Value::Str(text.into())),
        "binary" => return Ok(Value::Str(decode_base64(text)?.into())),
        _ => {}
    }
    let value = resolve_plain(text).value;
    let ok = matches!(
        (wanted, &value),
        ("bool", Value::Bool(_)) | ("int", Value::Int(_)) | ("null", Value::Null)
    ) || (wanted == "float" && matches!(value, Value::Float(_) | Value::Int(_)));
    if ok {
        return Ok(value);
    }
    let found = match value {
        Value::Null => "!!null",
        Value::Bool(_) => "!!bool",
        Value::Int(_) => "!!int",
        Value::Float(_) => "!!float",
        _ => "!!str",
    };
    Err(format!(
        "cannot decode {found} `{text}` as a {}",
        short.unwrap_or_else(|| tag.to_string())
    ))
}

/// `!!binary`: standard base64 with line breaks allowed, as go-yaml decodes it; bytes that are
/// not UTF-8 become replacement characters, as Go's JSON encoder writes them.
fn decode_base64(text: &str) -> Result<String, String> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits: u32 = 0;
    let mut nbits = 0;
    let mut out = Vec::new();
    let clean: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let body = clean
        .strip_suffix(b"==")
        .or_else(|| clean.strip_suffix(b"="));
    let body = body.unwrap_or(&clean);
    if !clean.len().is_multiple_of(4) {
        return Err("!!binary value contains invalid base64 data".to_string());
    }
    for &b in body {
        let Some(v) = ALPHABET.iter().position(|&a| a == b) else {
            return Err("!!binary value contains invalid base64 data".to_string());
        };
        bits = (bits << 6) | v as u32;
        nbits += 6;
        if nbits >= 8 {
            nbits -= 8;
            out.push((bits >> nbits) as u8);
            bits &= (1 << nbits) - 1;
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// Resolves a plain (unquoted, untagged) scalar the way go-yaml v2's `resolve("", text)` does,
/// followed by the JSON round trip.
pub(crate) fn resolve_plain(text: &str) -> Resolved {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return plain(Value::Null),
        "true" | "True" | "TRUE" => return plain(Value::Bool(true)),
        "false" | "False" | "FALSE" => return plain(Value::Bool(false)),
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => {
            return Resolved {
                value: Value::Bool(true),
                differs_from_yaml12: Some("the boolean `true`".to_string()),
            };
        }
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => {
            return Resolved {
                value: Value::Bool(false),
                differs_from_yaml12: Some("the boolean `false`".to_string()),
            };
        }
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return plain(Value::Float(f64::INFINITY));
        }
        "-.inf" | "-.Inf" | "-.INF" => return plain(Value::Float(f64::NEG_INFINITY)),
        ".nan" | ".NaN" | ".NAN" => return plain(Value::Float(f64::NAN)),
        _ => {}
    }
    let Some(&first) = text.as_bytes().first() else {
        return plain(Value::Null);
    };
    if first == b'.' {
        // go-yaml: "not in the map, so maybe a normal float" (strconv.ParseFloat).
        return match go_parse_float(text) {
            Some(f) => plain(json_number(f)),
            None => plain(Value::Str(text.into())),
        };
    }
    if !(first.is_ascii_digit() || first == b'+' || first == b'-') {
        return plain(Value::Str(text.into()));
    }
    // Timestamps (`2024-01-02`) stay strings, as go-yaml v2 keeps them when decoding into
    // interface{}; no integer or float parse accepts their dashes either.
    let without_underscores: String = text.chars().filter(|&c| c != '_').collect();
    let underscores = without_underscores.len() != text.len();
    if let Some(int) = go_parse_int(&without_underscores) {
        let value = match int {
            GoInt::Signed(i) => Value::Int(i),
            // Above i64: Kubernetes' JSON decoding falls back to a float.
            GoInt::Unsigned(u) => Value::Float(u as f64),
        };
        let note = yaml12_int_note(&without_underscores, underscores, &value);
        return Resolved {
            value,
            differs_from_yaml12: note,
        };
    }
    if is_yaml_style_float(&without_underscores)
        && let Some(f) = go_parse_float(&without_underscores)
    {
        return plain(json_number(f));
    }
    if let Some(digits) = without_underscores.strip_prefix("0b")
        && let Ok(i) = i64::from_str_radix(digits, 2)
    {
        return Resolved {
            value: Value::Int(i),
            differs_from_yaml12: Some(format!("the integer `{i}`")),
        };
    }
    plain(Value::Str(text.into()))
}

/// Where YAML 1.2 (core schema) reads an integer text differently from Go's `ParseInt(s, 0, 64)`.
fn yaml12_int_note(text: &str, underscores: bool, value: &Value) -> Option<String> {
    let Value::Int(i) = value else {
        return None;
    };
    let digits = text.trim_start_matches(['+', '-']);
    let octal =
        digits.len() > 1 && digits.starts_with('0') && digits.bytes().all(|b| b.is_ascii_digit());
    if octal {
        return Some(format!("the octal integer `{i}`"));
    }
    let binary = digits.starts_with("0b") || digits.starts_with("0B");
    if underscores || binary {
        return Some(format!("the integer `{i}`"));
    }
    None
}

/// A float as it comes out of Kubernetes' JSON round trip: Go's encoder writes a float without
/// a fraction, below 1e21, as an integer (`2.0` is `2`), which the decoder reads as an integer
/// when it fits in 64 bits.
pub(crate) fn json_number(f: f64) -> Value {
    const I64_BOUND: f64 = 9_223_372_036_854_775_808.0; // 2^63
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e21 && (-I64_BOUND..I64_BOUND).contains(&f) {
        // In range and integral, so the conversion is exact.
        #[expect(clippy::cast_possible_truncation, reason = "range-checked just above")]
        return Value::Int(f as i64);
    }
    Value::Float(f)
}

enum GoInt {
    Signed(i64),
    Unsigned(u64),
}

/// Go's `strconv.ParseInt(s, 0, 64)`, then `ParseUint(s, 0, 64)`: an optional sign, then
/// `0x`/`0X` hex, `0o`/`0O` or a leading `0` octal, `0b`/`0B` binary, or decimal.
fn go_parse_int(s: &str) -> Option<GoInt> {
    let (negative, body) = match s.as_bytes().first() {
        Some(b'-') => (true, s.get(1..)?),
        Some(b'+') => (false, s.get(1..)?),
        _ => (false, s),
    };
    let lower = body.get(..2).map(str::to_ascii_lowercase);
    let (radix, digits) = match lower.as_deref() {
        Some("0x") => (16, body.get(2..)?),
        Some("0o") => (8, body.get(2..)?),
        Some("0b") => (2, body.get(2..)?),
        _ if body.len() > 1 && body.starts_with('0') => (8, body.get(1..)?),
        _ => (10, body),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u64::from_str_radix(digits, radix).ok()?;
    if negative {
        if magnitude <= i64::MAX as u64 + 1 {
            // `0 - magnitude` fits: magnitude is at most 2^63.
            return Some(GoInt::Signed((magnitude as i128).wrapping_neg() as i64));
        }
        return None;
    }
    match i64::try_from(magnitude) {
        Ok(i) => Some(GoInt::Signed(i)),
        Err(_) => Some(GoInt::Unsigned(magnitude)),
    }
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`, go-yaml's gate before `ParseFloat`.
fn is_yaml_style_float(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (s.get(..i).unwrap_or(""), s.get(i + 1..)),
        None => (s, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", frac)) => !frac.is_empty() && frac.bytes().all(|b| b.is_ascii_digit()),
        Some((int, frac)) => {
            !int.is_empty()
                && int.bytes().all(|b| b.is_ascii_digit())
                && frac.bytes().all(|b| b.is_ascii_digit())
        }
        None => !mantissa.is_empty() && mantissa.bytes().all(|b| b.is_ascii_digit()),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit())
    });
    mantissa_ok && exponent_ok
}

/// Go's `strconv.ParseFloat(s, 64)` for the decimal forms YAML can reach here: digits, one
/// point, an exponent; `Inf`/`NaN` spellings and hex floats are not reachable (go-yaml's
/// callers gate them). Out of range is an error in Go, so `None` here.
fn go_parse_float(s: &str) -> Option<f64> {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let valid = !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
        && body.bytes().any(|b| b.is_ascii_digit());
    if !valid {
        return None;
    }
    let f: f64 = s.parse().ok()?;
    f.is_finite().then_some(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> Value {
        resolve_plain(text).value
    }

    #[test]
    fn go_yaml_v2_resolution() {
        assert_eq!(v("0755"), Value::Int(493));
        assert_eq!(v("20"), Value::Int(20));
        assert_eq!(v("1.5"), Value::Float(1.5));
        assert_eq!(
            v("2.0"),
            Value::Int(2),
            "the JSON round trip makes it an integer"
        );
        assert_eq!(v("2e0"), Value::Int(2));
        assert_eq!(v("20Gi"), Value::Str("20Gi".into()));
        assert_eq!(v("1.2.3"), Value::Str("1.2.3".into()));
        assert_eq!(v("-"), Value::Str("-".into()));
        assert_eq!(
            v("089"),
            Value::Int(89),
            "not octal, so ParseFloat reads 89"
        );
        assert_eq!(v("0x1F"), Value::Int(31));
        assert_eq!(v("0o17"), Value::Int(15));
        assert_eq!(v("0b101"), Value::Int(5));
        assert_eq!(v("1_000"), Value::Int(1000));
        assert_eq!(v("-9223372036854775808"), Value::Int(i64::MIN));
        assert_eq!(v("+12"), Value::Int(12));
        assert_eq!(v(".5"), Value::Float(0.5));
        assert_eq!(v("1."), Value::Int(1));
        assert_eq!(v("2024-01-02"), Value::Str("2024-01-02".into()));
        assert_eq!(
            v("2001-12-14t21:59:43.10-05:00"),
            Value::Str("2001-12-14t21:59:43.10-05:00".into())
        );
        assert_eq!(v("yes"), Value::Bool(true));
        assert_eq!(v("Off"), Value::Bool(false));
        assert!(matches!(v(".nan"), Value::Float(f) if f.is_nan()));
        assert_eq!(
            v("18446744073709551615"),
            Value::Float(18_446_744_073_709_551_615.0)
        );
    }

    #[test]
    fn yaml12_differences_are_noted() {
        assert!(resolve_plain("on").differs_from_yaml12.is_some());
        assert!(resolve_plain("0755").differs_from_yaml12.is_some());
        assert!(resolve_plain("1_000").differs_from_yaml12.is_some());
        assert!(resolve_plain("true").differs_from_yaml12.is_none());
        assert!(resolve_plain("0").differs_from_yaml12.is_none());
        assert!(resolve_plain("2.0").differs_from_yaml12.is_none());
    }

    #[test]
    fn tags() {
        assert_eq!(
            resolve_tagged("tag:yaml.org,2002:str", "3"),
            Ok(Value::Str("3".into()))
        );
        assert_eq!(
            resolve_tagged("tag:yaml.org,2002:int", "3"),
            Ok(Value::Int(3))
        );
        assert_eq!(
            resolve_tagged("tag:yaml.org,2002:float", "3"),
            Ok(Value::Int(3))
        );
        assert!(resolve_tagged("tag:yaml.org,2002:int", "abc").is_err());
        assert_eq!(resolve_tagged("!custom", "3"), Ok(Value::Str("3".into())));
        assert_eq!(resolve_tagged("!", "3"), Ok(Value::Str("3".into())));
        assert_eq!(
            resolve_tagged("tag:yaml.org,2002:binary", "aGVsbG8="),
            Ok(Value::Str("hello".into()))
        );
    }
}
