// The rendered files: one tab per file (arrow keys move between tabs), a download link for
// each, and all of them as one zip (fflate).
import { zipSync, strToU8 } from "fflate";

let urls = [];

function download(name, blob) {
  const url = URL.createObjectURL(blob);
  urls.push(url);
  const a = document.createElement("a");
  a.href = url;
  a.download = name.split("/").pop();
  a.textContent = `Download ${name}`;
  a.className = "download";
  return a;
}

export function showFiles(root, files, { zipName = "cluster.zip" } = {}) {
  for (const u of urls) URL.revokeObjectURL(u);
  urls = [];
  root.replaceChildren();
  const zipButton = document.getElementById("download-zip");
  if (!files.length) {
    zipButton.disabled = true;
    return;
  }
  const tabs = document.createElement("div");
  tabs.setAttribute("role", "tablist");
  tabs.setAttribute("aria-label", "Rendered files");
  root.append(tabs);
  const select = (index, focus) => {
    tabs.querySelectorAll("[role=tab]").forEach((t, i) => {
      t.setAttribute("aria-selected", String(i === index));
      t.tabIndex = i === index ? 0 : -1;
      if (i === index && focus) t.focus();
    });
    root.querySelectorAll("[role=tabpanel]").forEach((p, i) => (p.hidden = i !== index));
  };
  files.forEach((file, i) => {
    const tab = document.createElement("button");
    tab.type = "button";
    tab.setAttribute("role", "tab");
    tab.id = `file-tab-${i}`;
    tab.setAttribute("aria-controls", `file-panel-${i}`);
    tab.textContent = file.name;
    tab.addEventListener("click", () => select(i, false));
    tab.addEventListener("keydown", (e) => {
      const n = files.length;
      const next = { ArrowRight: (i + 1) % n, ArrowLeft: (i - 1 + n) % n, Home: 0, End: n - 1 }[e.key];
      if (next !== undefined) {
        e.preventDefault();
        select(next, true);
      }
    });
    tabs.append(tab);
    const panel = document.createElement("div");
    panel.setAttribute("role", "tabpanel");
    panel.id = `file-panel-${i}`;
    panel.setAttribute("aria-labelledby", tab.id);
    panel.tabIndex = 0;
    const pre = document.createElement("pre");
    pre.textContent = file.content;
    panel.append(download(file.name, new Blob([file.content], { type: "text/plain" })), pre);
    root.append(panel);
  });
  select(0, false);
  zipButton.disabled = false;
  zipButton.onclick = () => {
    const entries = Object.fromEntries(files.map((f) => [f.name, strToU8(f.content)]));
    // A fixed date: the same files give the same zip.
    const zip = zipSync(entries, { level: 9, mtime: new Date("2020-01-01T00:00:00Z") });
    const a = download(zipName, new Blob([zip], { type: "application/zip" }));
    document.body.append(a);
    a.click();
    a.remove();
  };
}
