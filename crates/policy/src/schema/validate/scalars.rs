//! The checks of one value against its shape: type, format, enum, and the bounds of strings
//! and numbers; and how messages name values and types.

use super::*;

impl<'n> Walker<'_, 'n> {
    pub(super) fn type_matches(&mut self, node: &'n Node, shape: &Shape) -> bool {
        if let Value::Float(f) = node.value
            && !f.is_finite()
        {
            let shown = node.scalar_text().unwrap_or_default();
            self.violation(
                node,
                format!(
                    "`{}` is `{shown}`, which JSON cannot carry, so the API server never sees it",
                    self.label()
                ),
                Some("write a finite number".to_string()),
            );
            return false;
        }
        let ok = if shape.int_or_string {
            matches!(node.value, Value::Str(_)) || is_integer(node)
        } else if shape.types.any() {
            true
        } else {
            match &node.value {
                Value::Str(_) => shape.types.has(Types::STRING),
                Value::Bool(_) => shape.types.has(Types::BOOLEAN),
                Value::Int(_) => shape.types.has(Types::INTEGER) || shape.types.has(Types::NUMBER),
                Value::Float(_) => {
                    shape.types.has(Types::NUMBER)
                        || (shape.types.has(Types::INTEGER) && is_integer(node))
                }
                Value::Seq(_) => shape.types.has(Types::ARRAY),
                Value::Map(_) => shape.types.has(Types::OBJECT),
                Value::Null => shape.nullable,
            }
        };
        if !ok {
            let message = format!(
                "`{}` must be {}, not {}",
                self.label(),
                expected(shape),
                describe(node)
            );
            let help = type_help(node, shape);
            self.violation(node, message, help);
            if let Some(plain) = unquoted(node, shape) {
                self.last_fix(IssueFix::Unquote(plain));
            }
        }
        ok
    }

    pub(super) fn format(&mut self, node: &'n Node, shape: &Shape) {
        let Some(format) = shape.format else {
            return;
        };
        match (&node.value, format) {
            (Value::Int(i), Format::Int32) if i32::try_from(*i).is_err() => {
                self.violation(
                    node,
                    format!(
                        "`{}` is `{i}`, outside the 32-bit integer range the field holds",
                        self.label()
                    ),
                    Some("use a value from -2147483648 to 2147483647".to_string()),
                );
            }
            (Value::Str(s), Format::DateTime) if date_time().is_some_and(|re| !re.is_match(s)) => {
                self.violation(
                    node,
                    format!("`{s}` is not a date-time for `{}`", self.label()),
                    Some("write an RFC 3339 time such as `2025-01-31T12:00:00Z`".to_string()),
                );
            }
            (Value::Str(s), Format::Date) if date().is_some_and(|re| !re.is_match(s)) => {
                self.violation(
                    node,
                    format!("`{s}` is not a date for `{}`", self.label()),
                    Some("write a date such as `2025-01-31`".to_string()),
                );
            }
            _ => {}
        }
    }

    pub(super) fn enumeration(&mut self, node: &'n Node, shape: &Shape) {
        if shape.enumeration.is_empty() {
            return;
        }
        let json = node.to_json();
        if shape.enumeration.iter().any(|allowed| same(allowed, &json)) {
            return;
        }
        let names: Vec<String> = shape.enumeration.iter().map(enum_text).collect();
        let mut listed = names
            .iter()
            .take(12)
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ");
        if names.len() > 12 {
            listed.push_str(", ...");
        }
        let shown = node
            .scalar_text()
            .unwrap_or_else(|| describe(node).to_string());
        let mut message = format!(
            "`{shown}` is not a valid `{}`: expected one of {listed}",
            self.label()
        );
        let old = node
            .as_str()
            .and_then(|s| hints::old_enum_value(self.group, self.kind, &self.dotted(), s));
        let help = if let Some((why, what)) = old {
            let _ = write!(message, "; {why}");
            Some(what.to_string())
        } else {
            node.as_str()
                .and_then(|s| crate::text::closest_field(s, names.iter().map(String::as_str)))
                .map(|s| format!("did you mean `{s}`?"))
        };
        self.violation(node, message, help);
    }

    pub(super) fn string(&mut self, node: &'n Node, s: &str, shape: &Shape) {
        let chars = s.chars().count() as u64;
        if let Some(min) = shape.min_length
            && chars < min
        {
            let message = if chars == 0 {
                format!(
                    "`{}` is empty; it needs at least {min} characters",
                    self.label()
                )
            } else {
                format!(
                    "`{}` is {chars} characters long, fewer than the minimum of {min}",
                    self.label()
                )
            };
            self.violation(node, message, None);
        }
        if let Some(max) = shape.max_length
            && chars > max
        {
            self.violation(
                node,
                format!(
                    "`{}` is {chars} characters long, more than the maximum of {max}",
                    self.label()
                ),
                Some(format!("shorten it to at most {max} characters")),
            );
        }
        if let Some(pattern) = &shape.pattern
            && let Some(regex) = &pattern.regex
            && !regex.is_match(s)
        {
            let message = match hints::pattern_hint(&pattern.source) {
                Some(hint) => format!("`{s}` is not a valid `{}`: expected {hint}", self.label()),
                None => format!(
                    "`{s}` is not a valid `{}`: it does not match the pattern `{}`",
                    self.label(),
                    pattern.source
                ),
            };
            self.violation(node, message, None);
        }
    }

    pub(super) fn number(&mut self, node: &'n Node, shape: &Shape) {
        let value = match node.value {
            Value::Int(i) => i as f64,
            Value::Float(f) => f,
            _ => return,
        };
        let shown = node.scalar_text().unwrap_or_default();
        if let Some(min) = shape.minimum {
            let below = if min.exclusive {
                value <= min.value
            } else {
                value < min.value
            };
            if below {
                let relation = if min.exclusive {
                    "must be greater than"
                } else {
                    "is below the minimum of"
                };
                self.violation(
                    node,
                    format!(
                        "`{}` is `{shown}`, which {relation} `{}`",
                        self.label(),
                        number_text(min.value)
                    ),
                    None,
                );
            }
        }
        if let Some(max) = shape.maximum {
            let above = if max.exclusive {
                value >= max.value
            } else {
                value > max.value
            };
            if above {
                let relation = if max.exclusive {
                    "must be less than"
                } else {
                    "is above the maximum of"
                };
                self.violation(
                    node,
                    format!(
                        "`{}` is `{shown}`, which {relation} `{}`",
                        self.label(),
                        number_text(max.value)
                    ),
                    None,
                );
            }
        }
        if let Some(step) = shape.multiple_of {
            let ratio = value / step;
            if (ratio - ratio.round()).abs() > 1e-9 {
                self.violation(
                    node,
                    format!(
                        "`{}` is `{shown}`, not a multiple of `{}`",
                        self.label(),
                        number_text(step)
                    ),
                    None,
                );
            }
        }
    }
}

/// An integer, or a float with no fractional part (YAML `1.0` reaches the API server as JSON
/// `1`).
pub(super) fn is_integer(node: &Node) -> bool {
    match node.value {
        Value::Int(_) => true,
        Value::Float(f) => f.is_finite() && f.fract() == 0.0,
        _ => false,
    }
}

/// JSON equality with numbers compared by value (`1` equals `1.0`).
pub(super) fn same(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => x.as_f64() == y.as_f64(),
        (Json::Array(x), Json::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        _ => a == b,
    }
}

pub(super) fn enum_text(value: &Json) -> String {
    match value {
        Json::String(s) => s.clone(),
        Json::Null => "null".to_string(),
        other => other.to_string(),
    }
}

pub(super) fn number_text(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        value.to_string()
    }
}

/// What a schema node accepts, for messages: `a string`, `an integer or a string`.
pub(super) fn expected(shape: &Shape) -> String {
    if shape.int_or_string {
        return "an integer or a string".to_string();
    }
    let mut names = Vec::new();
    for (t, name) in [
        (Types::STRING, "a string"),
        (Types::INTEGER, "an integer"),
        (Types::NUMBER, "a number"),
        (Types::BOOLEAN, "a boolean"),
        (Types::ARRAY, "a list"),
        (Types::OBJECT, "a mapping"),
    ] {
        if shape.types.has(t) {
            names.push(name);
        }
    }
    if shape.nullable {
        names.push("null");
    }
    match names.as_slice() {
        [] => "a value".to_string(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// The value and its type, for messages: ``the integer `1` ``, `a list`.
pub(super) fn describe(node: &Node) -> String {
    match &node.value {
        Value::Null => "null".to_string(),
        Value::Bool(b) => format!("the boolean `{b}`"),
        Value::Int(i) => format!("the integer `{i}`"),
        Value::Float(_) => format!("the number `{}`", node.scalar_text().unwrap_or_default()),
        Value::Str(s) => format!("the string `\"{s}\"`"),
        Value::Seq(_) => "a list".to_string(),
        Value::Map(_) => "a mapping".to_string(),
    }
}

/// A quoted boolean or number, written plain, where the shape wants one.
pub(super) fn unquoted(node: &Node, shape: &Shape) -> Option<String> {
    let Value::Str(s) = &node.value else {
        return None;
    };
    let t = s.trim();
    if shape.types.has(Types::INTEGER) && t.parse::<i64>().is_ok()
        || shape.types.has(Types::NUMBER) && t.parse::<f64>().is_ok_and(f64::is_finite)
    {
        // Plain digits only, no leading zero: `0x1F`, `1e3` or `010` (octal in YAML 1.1)
        // would read back as something else.
        let digits = t.trim_start_matches('-');
        let leading_zero = digits.len() > 1 && digits.starts_with('0') && !digits.starts_with("0.");
        return (t
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'-' || b == b'.')
            && !leading_zero)
            .then(|| t.to_string());
    }
    if shape.types.has(Types::BOOLEAN) && matches!(t.to_lowercase().as_str(), "true" | "false") {
        return Some(t.to_lowercase());
    }
    None
}

/// How to fix a type error, when the fix is mechanical.
pub(super) fn type_help(node: &Node, shape: &Shape) -> Option<String> {
    let wants_string = shape.types.has(Types::STRING) || shape.int_or_string;
    match &node.value {
        Value::Int(_) | Value::Float(_) | Value::Bool(_) if wants_string => {
            // Not the value as Kubernetes reads it: `0042` is `34` and `on` is `true`.
            Some("quote the value as written, so that Kubernetes reads a string".to_string())
        }
        Value::Str(s)
            if (shape.types.has(Types::INTEGER) && s.trim().parse::<i64>().is_ok())
                || (shape.types.has(Types::NUMBER) && s.trim().parse::<f64>().is_ok()) =>
        {
            Some(format!("remove the quotes: `{}`", s.trim()))
        }
        Value::Str(s)
            if shape.types.has(Types::BOOLEAN)
                && matches!(s.to_lowercase().as_str(), "true" | "false") =>
        {
            Some(format!("remove the quotes: `{}`", s.to_lowercase()))
        }
        Value::Str(_) | Value::Int(_) | Value::Float(_) | Value::Bool(_)
            if shape.types.has(Types::ARRAY) =>
        {
            let text = node.scalar_text().unwrap_or_default();
            Some(format!("write a list, such as `[{text}]`"))
        }
        Value::Map(_) if shape.types.has(Types::ARRAY) => {
            Some("write a list: start the item with `- `, or wrap it in `[...]`".to_string())
        }
        Value::Seq(_) if shape.types.has(Types::OBJECT) => {
            Some("write a mapping of keys to values, not a list".to_string())
        }
        _ => None,
    }
}

pub(super) fn date_time() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?([Zz]|[+-][0-9]{2}:?[0-9]{2})?$",
        )
        .ok()
    })
    .as_ref()
}

pub(super) fn date() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$").ok())
        .as_ref()
}
