// A small YAML emitter for the request the form builds: block mappings and sequences, strings
// quoted when YAML would read them as something else. Every user value is a scalar, quoted
// as JSON (a subset of YAML's double-quoted style) when it is not plainly safe, so no input can
// become YAML structure.
const PLAIN = /^[A-Za-z0-9][A-Za-z0-9._\/-]*$/;
const RESERVED = /^(true|false|yes|no|on|off|y|n|null|~|[-+]?(\d[\d_]*(\.\d*)?|\.\d+)([eE][-+]?\d+)?|0x[0-9a-fA-F]+|0o[0-7]+|\.inf|\.nan)$/i;

export function scalar(value) {
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  const s = String(value);
  return PLAIN.test(s) && !RESERVED.test(s) ? s : JSON.stringify(s);
}

function isEmpty(value) {
  return value === undefined || value === null || value === "" ||
    (Array.isArray(value) && value.length === 0) ||
    (typeof value === "object" && !Array.isArray(value) && Object.keys(value).every((k) => isEmpty(value[k])));
}

function emit(value, indent, out) {
  const pad = "  ".repeat(indent);
  if (Array.isArray(value)) {
    for (const item of value) {
      if (item !== null && typeof item === "object") {
        const lines = [];
        emit(item, indent + 1, lines);
        out.push(`${pad}- ${lines[0].trimStart()}`, ...lines.slice(1));
      } else {
        out.push(`${pad}- ${scalar(item)}`);
      }
    }
    return;
  }
  for (const [key, v] of Object.entries(value)) {
    if (isEmpty(v)) continue;
    if (v !== null && typeof v === "object") {
      out.push(`${pad}${key}:`);
      emit(v, Array.isArray(v) ? indent : indent + 1, out);
    } else {
      out.push(`${pad}${key}: ${scalar(v)}`);
    }
  }
}

/** The YAML text of a plain object (mappings, arrays, strings, numbers, booleans). */
export function toYaml(value) {
  const out = [];
  emit(value, 0, out);
  return out.join("\n") + "\n";
}
