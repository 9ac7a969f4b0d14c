// Renders the pull request comment the action posted (Markdown, written by
// tests/action_runner.py to $CARGO_TARGET_DIR/pr-comment.md) as GitHub shows it, and captures
// it with Chromium: docs/pr-comment.png for the README. Run through
// scripts/pr-comment-screenshot.sh, which makes the comment first.
//
// `marked` turns the GitHub-flavoured Markdown into HTML; the stylesheet below imitates
// github.com's comment box (no CDN, no network: every request the page makes is refused).
import { readFileSync, writeFileSync, renameSync } from "node:fs";
import { resolve } from "node:path";
import { marked } from "marked";
import { chromium } from "playwright-core";

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error("usage: node scripts/pr-comment-screenshot.mjs COMMENT.md OUT.png");
  process.exit(2);
}
const markdown = readFileSync(input, "utf8");
if (!markdown.startsWith("<!-- eksgate:pr-comment ")) {
  console.error(`${input}: not an eksgate pull request comment (no marker on the first line)`);
  process.exit(2);
}
// GitHub renders a line break inside a paragraph of a comment as a break (`breaks`), unlike in
// a Markdown file.
const body = marked.parse(markdown, { gfm: true, breaks: true });

const css = `
  body { margin: 0; padding: 24px; background: #fff; color: #1f2328; width: 860px;
    font: 14px/1.5 -apple-system, BlinkMacSystemFont, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif,
      "Apple Color Emoji", "Segoe UI Emoji", "Noto Color Emoji"; }
  .timeline { display: flex; gap: 16px; align-items: flex-start; }
  .avatar { width: 40px; height: 40px; border-radius: 50%; background: #24292f; color: #fff; flex: none;
    display: flex; align-items: center; justify-content: center; font-weight: 600; font-size: 13px; }
  .comment { flex: 1; border: 1px solid #d1d9e0; border-radius: 6px; overflow: hidden; }
  .header { background: #f6f8fa; border-bottom: 1px solid #d1d9e0; padding: 8px 16px; color: #59636e; }
  .header b { color: #1f2328; }
  .label { border: 1px solid #d1d9e0; border-radius: 2em; padding: 0 7px; font-size: 12px; margin-left: 4px; }
  .markdown-body { padding: 16px; word-wrap: break-word; }
  .markdown-body > :first-child { margin-top: 0 !important; }
  .markdown-body h3 { font-size: 1.25em; font-weight: 600; margin: 24px 0 16px; }
  .markdown-body h4 { font-size: 1em; font-weight: 600; margin: 24px 0 12px; }
  .markdown-body p, .markdown-body ul { margin: 0 0 16px; }
  .markdown-body ul { padding-left: 2em; }
  .markdown-body li + li { margin-top: 0.25em; }
  .markdown-body a { color: #0969da; text-decoration: none; }
  .markdown-body code { font: 85%/1.4 ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, "Liberation Mono", monospace;
    background: rgba(129, 139, 152, 0.12); border-radius: 6px; padding: 0.2em 0.4em; }
`;
const html = `<!doctype html><html><head><meta charset="utf-8"><style>${css}</style></head><body>
<div class="timeline"><div class="avatar">GA</div><div class="comment">
<div class="header"><b>github-actions</b> <span class="label">bot</span> commented</div>
<div class="markdown-body">${body}</div></div></div></body></html>`;

const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
try {
  const page = await browser.newPage({ viewport: { width: 908, height: 400 }, deviceScaleFactor: 1 });
  await page.route("**/*", (route) => route.abort());
  await page.setContent(html, { waitUntil: "load" });
  const shot = await page.screenshot({ fullPage: true, type: "png" });
  const out = resolve(output);
  writeFileSync(`${out}.tmp`, shot);
  renameSync(`${out}.tmp`, out);
  console.log(`wrote ${output} (${shot.length} bytes) from ${input}`);
} finally {
  await browser.close();
}
