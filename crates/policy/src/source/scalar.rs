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
    /// The Go value go-yaml v2 decodes the scalar to, before the JSON round trip: a mapping key
    /// is written from it ([`map_key`]), not from `value`.
    pub go: GoValue,
}

impl Resolved {
    /// A string, as quoted and block scalars without a tag are.
    pub(crate) fn string(text: String) -> Self {
        Self {
            value: Value::Str(text.into()),
            differs_from_yaml12: None,
            go: GoValue::Str,
        }
    }
}

/// The dynamic type (and value) of what go-yaml v2's `resolve` returns for a scalar decoded into
/// `interface{}`. Only keys need it: sigs.k8s.io/yaml's `convertToJSONableObject` turns a key
/// into a string by its Go type, while values go through `json.Marshal`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum GoValue {
    Null,
    Bool(bool),
    /// `int` (64-bit platforms): `strconv.ParseInt` succeeded.
    Int(i64),
    /// `uint64`: above int64, `strconv.ParseUint` succeeded.
    Uint(u64),
    Float(f64),
    /// The scalar's text (or, for `!!binary`, the decoded bytes): the [`Resolved::value`] string.
    Str,
}

/// `value` with the Go type a plain scalar of that value has.
fn plain(value: Value) -> Resolved {
    let go = match &value {
        Value::Null => GoValue::Null,
        Value::Bool(b) => GoValue::Bool(*b),
        Value::Int(i) => GoValue::Int(*i),
        Value::Float(f) => GoValue::Float(*f),
        _ => GoValue::Str,
    };
    Resolved {
        value,
        differs_from_yaml12: None,
        go,
    }
}

/// A float as go-yaml v2 returns it, with the value the JSON round trip makes of it.
fn go_float(f: f64) -> Resolved {
    Resolved {
        value: json_number(f),
        differs_from_yaml12: None,
        go: GoValue::Float(f),
    }
}

/// The text of a mapping key as sigs.k8s.io/yaml writes it (`yaml.go`,
/// `convertToJSONableObject`): a string as it is, `int` with `strconv.Itoa`, `float64` with
/// `strconv.FormatFloat(f, 'g', -1, 32)` (so `1e+21`, and `1.00000001` reads `1`) where `+Inf`,
/// `-Inf` and `NaN` become `.inf`, `-.inf` and `.nan`, a `bool` as `true`/`false`. Any other
/// type (`uint64`, `nil`) is `Err`: "unsupported map key of type", and kubectl rejects the file.
pub(crate) fn map_key(go: GoValue, value: &Value) -> Result<String, String> {
    match go {
        GoValue::Str => match value {
            Value::Str(s) => Ok(s.to_string()),
            _ => Err("a non-string value cannot be a mapping key in Kubernetes".to_string()),
        },
        GoValue::Int(i) => Ok(i.to_string()),
        GoValue::Bool(b) => Ok(b.to_string()),
        GoValue::Float(f) if f.is_nan() => Ok(".nan".to_string()),
        GoValue::Float(f) if f.is_infinite() => {
            Ok(if f > 0.0 { ".inf" } else { "-.inf" }.to_string())
        }
        GoValue::Float(f) => Ok(go_format_float32_g(f)),
        GoValue::Uint(u) => Err(format!(
            "the key `{u}` is above the int64 range, so go-yaml v2 decodes it as a uint64, which Kubernetes cannot use as a mapping key (\"unsupported map key of type: uint64, key: {u:#x}\")"
        )),
        GoValue::Null => Err("a null cannot be a mapping key in Kubernetes".to_string()),
    }
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 32)` for a finite `f`: the value rounded to float32,
/// its shortest decimal digits that read back as the same float32, in `%e` form (`1e+21`,
/// `-9.223372e+18`: at least two exponent digits) when the exponent is below -4 or at least 6
/// (the `shortest` rule of `ftoa.go`), else in `%f` form (`685230.1`, `0.0001`).
fn go_format_float32_g(f: f64) -> String {
    // Rust's `as` rounds to nearest, ties to even, as Go's float32(f) does.
    let single = f as f32;
    if single.is_infinite() {
        // Above float32's range: Go prints `+Inf`/`-Inf`, which sigs.k8s.io/yaml renames.
        return if single > 0.0 { ".inf" } else { "-.inf" }.to_string();
    }
    // Rust's `{:e}` without a precision gives the shortest digits that round-trip as f32.
    let exponential = format!("{single:e}");
    let (mantissa, exponent) = exponential.split_once('e').unwrap_or((&exponential, "0"));
    let negative = mantissa.starts_with('-');
    let digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
    let exp: i32 = exponent.parse().unwrap_or(0);
    let nd = digits.len() as i32;
    let dp = exp + 1; // decimal point position, as Go's `decimalSlice.dp`
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    let digit = |i: i32| -> char {
        usize::try_from(i)
            .ok()
            .and_then(|i| digits.get(i))
            .map_or('0', |&d| char::from(d))
    };
    if !(-4..6).contains(&exp) {
        // fmtE with prec = nd - 1
        out.push(digit(0));
        if nd > 1 {
            out.push('.');
            for i in 1..nd {
                out.push(digit(i));
            }
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let e = exp.unsigned_abs();
        if e < 10 {
            out.push('0');
        }
        out.push_str(&e.to_string());
    } else {
        // fmtF with prec = max(nd - dp, 0)
        if dp > 0 {
            for i in 0..dp {
                out.push(digit(i));
            }
        } else {
            out.push('0');
        }
        let prec = (nd - dp).max(0);
        if prec > 0 {
            out.push('.');
            for i in 0..prec {
                out.push(digit(dp + i));
            }
        }
    }
    out
}

const LONG_TAG: &str = "tag:yaml.org,2002:";

/// A scalar with an explicit tag (`!!int "3"`, `!!str 3`, `!custom x`). `Err` is go-yaml's
/// complaint for a value the tag cannot hold (`resolve.go`, `resolve`: the deferred check, where
/// only `!!float` converts an `int` and a `uint64` is "cannot decode").
pub(crate) fn resolve_tagged(tag: &str, text: &str) -> Result<Resolved, String> {
    let short = tag.strip_prefix(LONG_TAG).map(|s| format!("!!{s}"));
    let wanted = match tag.strip_prefix(LONG_TAG) {
        Some(t @ ("str" | "bool" | "int" | "float" | "null" | "timestamp" | "binary")) => t,
        // Custom and non-specific (`!`) tags keep the text: go-yaml returns it as a string.
        _ => return Ok(Resolved::string(text.to_string())),
    };
    match wanted {
        "str" | "timestamp" => return Ok(Resolved::string(text.to_string())),
        "binary" => return Ok(Resolved::string(decode_base64(text)?)),
        _ => {}
    }
    let resolved = resolve_plain(text);
    let go = match (wanted, resolved.go) {
        ("bool", go @ GoValue::Bool(_))
        | ("int", go @ (GoValue::Int(_) | GoValue::Uint(_)))
        | ("null", go @ GoValue::Null)
        | ("float", go @ GoValue::Float(_)) => go,
        ("float", GoValue::Int(i)) => GoValue::Float(i as f64),
        (_, go) => {
            let found = match go {
                GoValue::Null => "!!null",
                GoValue::Bool(_) => "!!bool",
                GoValue::Int(_) | GoValue::Uint(_) => "!!int",
                GoValue::Float(_) => "!!float",
                GoValue::Str => "!!str",
            };
            return Err(format!(
                "cannot decode {found} `{text}` as a {}",
                short.unwrap_or_else(|| tag.to_string())
            ));
        }
    };
    Ok(Resolved {
        value: resolved.value,
        differs_from_yaml12: None,
        go,
    })
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
                differs_from_yaml12: Some("the boolean `true`".to_string()),
                ..plain(Value::Bool(true))
            };
        }
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => {
            return Resolved {
                differs_from_yaml12: Some("the boolean `false`".to_string()),
                ..plain(Value::Bool(false))
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
            Some(f) => go_float(f),
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
        let (value, go) = match int {
            GoInt::Signed(i) => (Value::Int(i), GoValue::Int(i)),
            // Above i64 go-yaml returns a uint64: `json.Marshal` writes its digits, which
            // Kubernetes' JSON decoding reads back as a float64 (they do not fit an int64).
            GoInt::Unsigned(u) => (Value::Float(u as f64), GoValue::Uint(u)),
        };
        let note = yaml12_int_note(&without_underscores, underscores, &value);
        return Resolved {
            value,
            differs_from_yaml12: note,
            go,
        };
    }
    if is_yaml_style_float(&without_underscores)
        && let Some(f) = go_parse_float(&without_underscores)
    {
        // Also where ParseInt and ParseUint refuse the range: `-9223372036854775809` is the
        // float64 -9.223372036854776e18.
        return go_float(f);
    }
    if let Some(digits) = without_underscores.strip_prefix("0b")
        && let Ok(i) = i64::from_str_radix(digits, 2)
    {
        return Resolved {
            differs_from_yaml12: Some(format!("the integer `{i}`")),
            ..plain(Value::Int(i))
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

/// A float as it comes out of Kubernetes' JSON round trip: Go's encoder writes a float below
/// 1e21 in `'f'` form with its shortest digits (`2.0` is `2`, -2^63 is `-9223372036854776000`),
/// and apimachinery's decoder reads a number text as an int64 when it parses as one, else as a
/// float64. So an integral float becomes an integer exactly when that text fits an int64.
pub(crate) fn json_number(f: f64) -> Value {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e21 {
        // Rust's `Display` for f64 also writes the shortest digits, padded with zeros.
        if let Ok(i) = format!("{f}").parse::<i64>() {
            return Value::Int(i);
        }
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
    #![expect(clippy::unwrap_used, reason = "tests")]
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

    fn tagged(tag: &str, text: &str) -> Result<Value, String> {
        resolve_tagged(&format!("{LONG_TAG}{tag}"), text).map(|r| r.value)
    }

    #[test]
    fn tags() {
        assert_eq!(tagged("str", "3"), Ok(Value::Str("3".into())));
        assert_eq!(tagged("int", "3"), Ok(Value::Int(3)));
        assert_eq!(tagged("float", "3"), Ok(Value::Int(3)));
        assert!(tagged("int", "abc").is_err());
        assert_eq!(
            resolve_tagged("!custom", "3").map(|r| r.value),
            Ok(Value::Str("3".into()))
        );
        assert_eq!(
            resolve_tagged("!", "3").map(|r| r.value),
            Ok(Value::Str("3".into()))
        );
        assert_eq!(tagged("binary", "aGVsbG8="), Ok(Value::Str("hello".into())));
        // go-yaml v2: `!!int` holds a uint64; `!!float` converts an int but not a uint64.
        assert_eq!(
            tagged("int", "18446744073709551615"),
            Ok(Value::Float(18_446_744_073_709_551_615.0))
        );
        assert_eq!(
            tagged("float", "18446744073709551615"),
            Err("cannot decode !!int `18446744073709551615` as a !!float".to_string())
        );
        assert_eq!(
            resolve_tagged(&format!("{LONG_TAG}float"), "10000000000").map(|r| r.go),
            Ok(GoValue::Float(1e10))
        );
    }

    fn key(text: &str) -> Result<String, String> {
        let r = resolve_plain(text);
        map_key(r.go, &r.value)
    }

    #[test]
    fn float_keys_are_written_with_float32_precision() {
        // strconv.FormatFloat(f, 'g', -1, 32), as sigs.k8s.io/yaml writes a float64 key; the
        // expected texts are kubectl's (tests/yaml_differential.py, gen-key-*).
        for (text, want) in [
            ("1.5", "1.5"),
            ("0.1", "0.1"),
            ("1e3", "1000"),
            ("2.0", "2"),
            ("1.0000001", "1.0000001"),
            ("1.00000001", "1"),
            ("3.14159265358979", "3.1415927"),
            ("1e21", "1e+21"),
            ("1e20", "1e+20"),
            ("1e6", "1e+06"),
            ("123456.7", "123456.7"),
            ("1234567.0", "1.234567e+06"),
            ("6.8523015e+5", "685230.1"),
            ("685.230_15e+03", "685230.1"),
            ("1e-3", "0.001"),
            ("1.5e-3", "0.0015"),
            ("1e-5", "1e-05"),
            ("0.0001", "0.0001"),
            (".5", "0.5"),
            ("-.5", "-0.5"),
            ("1.", "1"),
            ("0.", "0"),
            ("-0.0", "-0"),
            ("1e300", ".inf"),
            ("-1e300", "-.inf"),
            ("-9223372036854775809", "-9.223372e+18"),
            ("18446744073709551616", "1.8446744e+19"),
        ] {
            assert_eq!(key(text), Ok(want.to_string()), "{text}");
        }
    }

    #[test]
    fn special_float_keys_are_strings() {
        for (text, want) in [
            (".inf", ".inf"),
            (".Inf", ".inf"),
            ("+.INF", ".inf"),
            ("-.inf", "-.inf"),
            ("-.Inf", "-.inf"),
            (".nan", ".nan"),
            (".NaN", ".nan"),
            (".NAN", ".nan"),
        ] {
            assert_eq!(key(text), Ok(want.to_string()), "{text}");
        }
        // Spellings go-yaml does not know are strings.
        assert_eq!(key("inf"), Ok("inf".to_string()));
        assert_eq!(key(".INf"), Ok(".INf".to_string()));
    }

    #[test]
    fn integer_keys_above_int64_are_refused() {
        assert_eq!(key("9223372036854775807"), Ok("9223372036854775807".into()));
        assert_eq!(
            key("-9223372036854775808"),
            Ok("-9223372036854775808".into())
        );
        assert_eq!(key("0x10"), Ok("16".into()));
        assert_eq!(key("0755"), Ok("493".into()));
        for text in [
            "9223372036854775808",
            "0x8000000000000000",
            "18446744073709551615",
        ] {
            let err = key(text).unwrap_err();
            assert!(
                err.contains("unsupported map key of type: uint64"),
                "{text}: {err}"
            );
        }
        assert!(key("~").is_err());
        assert_eq!(key("yes"), Ok("true".into()));
    }

    #[test]
    fn numbers_outside_int64_read_as_kubectl_reads_them() {
        // Below int64: ParseInt and ParseUint refuse it, ParseFloat reads -9.223372036854776e18;
        // json.Marshal writes `-9223372036854776000`, which is no int64: a float.
        assert_eq!(
            v("-9223372036854775809"),
            Value::Float(-9_223_372_036_854_775_808.0)
        );
        // Above int64: a uint64, whose digits are no int64 either.
        assert_eq!(
            v("9223372036854775808"),
            Value::Float(9_223_372_036_854_775_808.0)
        );
        assert_eq!(
            v("18446744073709551616"),
            Value::Float(18_446_744_073_709_551_616.0)
        );
        assert_eq!(v("1e400"), Value::Str("1e400".into()));
        // An integral float is an integer when Go's text of it fits an int64: the text, not
        // the float's exact value (9223372036854774784).
        assert_eq!(
            json_number(9_223_372_036_854_775_000.0),
            Value::Int(9_223_372_036_854_775_000)
        );
        assert_eq!(
            json_number(-9_223_372_036_854_775_808.0),
            Value::Float(-9_223_372_036_854_775_808.0)
        );
        assert_eq!(json_number(1e20), Value::Float(1e20));
        assert_eq!(json_number(-0.0), Value::Int(0));
    }
}
