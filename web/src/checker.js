// The "Check manifests" pane: CodeMirror 6 with @codemirror/lint. The CLI's findings become
// squiggles and gutter markers at their exact line and column (the engine counts columns in
// characters, CodeMirror in UTF-16 units), the rule ID and help show on hover, and the list
// below jumps to the line.
import { EditorState, StateEffect } from "@codemirror/state";
import { EditorView, keymap, lineNumbers, highlightActiveLine } from "@codemirror/view";
import { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import { syntaxHighlighting, defaultHighlightStyle } from "@codemirror/language";
import { yaml } from "@codemirror/lang-yaml";
import { linter, lintGutter, forceLinting } from "@codemirror/lint";

export const EDITOR_FILE = "editor.yaml";
/** Past this size a paste is not checked as you type (the CLI is the tool for it). */
export const MAX_LIVE_BYTES = 2 * 1024 * 1024;
const MAX_LISTED = 300;
/** Re-check without an edit: the policy or the opened files changed. */
const refresh = StateEffect.define();

/** The document offset of a 1-based line and character column. */
function offset(doc, line, column) {
  if (line < 1) return 0;
  if (line > doc.lines) return doc.length;
  const l = doc.line(line);
  let units = 0;
  let chars = 1;
  for (const ch of l.text) {
    if (chars >= column) break;
    units += ch.length;
    chars += 1;
  }
  return l.from + units;
}

export function createChecker({ parent, list, summary, message, check, readText }) {
  let extra = []; // files opened beside the editor's text: [{name, bytes}]
  let lastFindings = [];

  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: "",
      extensions: [
        lineNumbers(),
        history(),
        highlightActiveLine(),
        syntaxHighlighting(defaultHighlightStyle),
        yaml(),
        keymap.of([...defaultKeymap, ...historyKeymap]),
        lintGutter(),
        linter(lint, {
          delay: 200,
          needsRefresh: (u) => u.transactions.some((t) => t.effects.some((e) => e.is(refresh))),
        }),
        EditorView.contentAttributes.of({ "aria-label": "Manifests to check (YAML or JSON)" }),
      ],
    }),
  });

  async function lint(v) {
    const doc = v.state.doc;
    const text = doc.toString();
    const bytes = new TextEncoder().encode(text).length;
    if (bytes > MAX_LIVE_BYTES) {
      const mb = (bytes / 1048576).toFixed(1);
      message.textContent = `The text is ${mb} MB; the page checks up to ${MAX_LIVE_BYTES / 1048576} MB as you type. Check larger sets with the CLI: eksgate check FILES.`;
      message.className = "message error";
      showList([], v);
      summary.textContent = "";
      return [];
    }
    if (!text.trim() && extra.length === 0) {
      message.textContent = "";
      showList([], v);
      summary.textContent = "";
      return [];
    }
    let report;
    try {
      const files = text.trim() ? [{ name: EDITOR_FILE, text }, ...extra] : extra;
      report = await check(files);
    } catch (e) {
      message.textContent = `The manifests could not be checked: ${e.message}`;
      message.className = "message error";
      return [];
    }
    if (v.state.doc !== doc) return [];
    if (report.error) {
      message.textContent = `The policy cannot be used: ${report.error.message}`;
      message.className = "message error";
      return [];
    }
    message.textContent = "";
    message.className = "message";
    const s = report.summary;
    summary.textContent = `${s.errors} errors, ${s.warnings} warnings, ${s.infos} infos in ${s.documents} documents (${s.files} files)`;
    lastFindings = report.diagnostics;
    showList(report.diagnostics, v);
    return report.diagnostics
      .filter((d) => d.file === EDITOR_FILE)
      .map((d) => {
        const from = offset(doc, d.line, d.column);
        let to = offset(doc, d.end_line, d.end_column);
        if (to <= from) to = Math.min(doc.lineAt(from).to, doc.length);
        return {
          from,
          to: Math.max(to, from),
          severity: d.severity === "info" ? "info" : d.severity,
          source: d.rule,
          message: `${d.rule}: ${d.message}`,
          renderMessage: () => {
            const div = document.createElement("div");
            const head = document.createElement("strong");
            head.textContent = `${d.rule} `;
            div.append(head, d.message);
            if (d.help) {
              const help = document.createElement("div");
              help.className = "cm-help";
              help.textContent = d.help;
              div.append(help);
            }
            return div;
          },
        };
      });
  }

  function showList(diagnostics, v) {
    list.replaceChildren();
    for (const d of diagnostics.slice(0, MAX_LISTED)) {
      const li = document.createElement("li");
      li.className = d.severity;
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = `${d.file}:${d.line}:${d.column} ${d.severity} ${d.rule}: ${d.message}`;
      if (d.help) button.title = d.help;
      if (d.file === EDITOR_FILE) {
        button.addEventListener("click", () => {
          const pos = offset(v.state.doc, d.line, d.column);
          v.dispatch({ selection: { anchor: pos }, effects: EditorView.scrollIntoView(pos, { y: "center" }) });
          v.focus();
        });
      } else {
        button.disabled = true;
      }
      li.append(button);
      list.append(li);
    }
    if (diagnostics.length > MAX_LISTED) {
      const li = document.createElement("li");
      li.textContent = `… and ${diagnostics.length - MAX_LISTED} more`;
      list.append(li);
    }
  }

  return {
    view,
    findings: () => lastFindings,
    recheck: () => {
      view.dispatch({ effects: refresh.of(null) });
      forceLinting(view);
    },
    /** Files the user opened: one UTF-8 file goes into the editor; others are checked beside it. */
    async openFiles(fileList) {
      extra = [];
      const notes = [];
      for (const [i, file] of fileList.entries()) {
        const read = await readText(file);
        if (i === 0 && fileList.length === 1 && !read.error) {
          view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: read.text } });
        } else {
          // Raw bytes: the engine reports bytes that are not UTF-8 as YAML001 with the offset.
          extra.push({ name: file.name, bytes: read.bytes });
          if (read.error) notes.push(read.error);
        }
      }
      view.dispatch({ effects: refresh.of(null) });
      forceLinting(view);
      if (notes.length) {
        setTimeout(() => {
          message.textContent = `${notes.join("; ")}. eksgate reads UTF-8 YAML or JSON files.`;
          message.className = "message error";
        }, 400);
      }
    },
  };
}
