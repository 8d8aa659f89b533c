// Runs the portable core's tests under real MicroPython (the WebAssembly port, in node).
// Copies firmware/branchline, tests/portable and the portable bench stream
// (host_tools/bench/core_day.py) into MicroPython's file system, imports every
// tests/portable/test_*.py and calls each test_* function. Exits non-zero when a test
// fails or a module does not import there.
//
// `node run.mjs --script FILE.py 'JSON'` runs one script there instead, with PARAMS set
// to the JSON value, and prints what it prints (tests compare runtimes this way).
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";
import fs from "node:fs";
import path from "node:path";
import url from "node:url";

const root = path.resolve(path.dirname(url.fileURLToPath(import.meta.url)), "..", "..");
const out = [];
const mp = await loadMicroPython({
  heapsize: 64 * 1024 * 1024,
  stdout: (line) => out.push(line),
  stderr: (line) => out.push(line),
});

function copyTree(src, dest, filter) {
  mp.FS.mkdirTree(dest);
  for (const entry of fs.readdirSync(src, { withFileTypes: true })) {
    const from = path.join(src, entry.name);
    const to = dest + "/" + entry.name;
    if (entry.isDirectory()) {
      if (entry.name !== "__pycache__") copyTree(from, to, filter);
    } else if (entry.name.endsWith(".py") && filter(from)) {
      mp.FS.writeFile(to, fs.readFileSync(from));
    }
  }
}

// The CPython adapters never load on MicroPython; everything else must.
const cpythonOnly = path.join(root, "firmware", "branchline", "ports", "cpython");
copyTree(path.join(root, "firmware", "branchline"), "/lib/branchline",
  (file) => !file.startsWith(cpythonOnly));
copyTree(path.join(root, "tests", "portable"), "/tests", (file) => !file.endsWith("conftest.py"));
mp.FS.mkdirTree("/lib/host_tools/bench");
for (const rel of ["host_tools/__init__.py", "host_tools/bench/__init__.py",
                   "host_tools/bench/core_day.py"]) {
  mp.FS.writeFile("/lib/" + rel, fs.readFileSync(path.join(root, rel)));
}

const scriptAt = process.argv.indexOf("--script");
if (scriptAt >= 0) {
  const source = fs.readFileSync(process.argv[scriptAt + 1], "utf8");
  const params = process.argv[scriptAt + 2] || "null";
  try {
    mp.runPython("import sys\nsys.path.insert(0, '/lib')\nimport json\nPARAMS = json.loads("
                 + JSON.stringify(params) + ")\n" + source);
  } catch (e) {
    out.push(String(e.message || e));
    process.stdout.write(out.join("\n") + "\n");
    process.exit(1);
  }
  process.stdout.write(out.join("\n") + "\n");
  process.exit(0);
}

const modules = fs.readdirSync(path.join(root, "tests", "portable"))
  .filter((f) => /^test_.*\.py$/.test(f)).map((f) => f.slice(0, -3)).sort();

mp.FS.writeFile("/tests/driver.py", fs.readFileSync(path.join(root, "tests", "micropython", "driver.py")));
const driver = `
import sys
sys.path.insert(0, '/tests')
sys.path.insert(0, '/lib')
import driver
driver.main(${JSON.stringify(modules)})
`;

let ok = true;
try {
  mp.runPython(driver);
} catch (e) {
  ok = false;
  out.push(String(e.message || e));
}
const text = out.join("\n");
process.stdout.write(text.endsWith("\n") ? text : text + "\n");
const m = text.match(/(\d+) passed, (\d+) failed/);
if (!ok || !m || Number(m[2]) !== 0 || Number(m[1]) === 0) process.exit(1);
