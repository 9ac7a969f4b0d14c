// The form's fields as a ClusterRequest document, and the field that answers for a JSON
// pointer. The pool fields are built from one template, so the infra pool and each client
// pool have the same controls.
import { toYaml } from "./yaml.js";

const CAPACITY = ["on-demand", "spot"];
const ARCHITECTURES = ["amd64", "arm64"];

function checkboxes(prefix, pointer, name, options, checked) {
  const boxes = options
    .map(
      (o) => `<label class="check"><input type="checkbox" name="${name}" value="${o}" ${
        checked.includes(o) ? "checked" : ""
      }> ${o}</label>`,
    )
    .join(" ");
  return `<fieldset class="field group" data-field data-pointer="${pointer}" id="${prefix}-${name}">
    <legend>${name === "capacityTypes" ? "Capacity types" : "Architectures"}</legend>${boxes}</fieldset>`;
}

function text(prefix, pointer, key, label, value, hint = "") {
  const id = `${prefix}-${key}`;
  return `<div class="field" data-field>
    <label for="${id}">${label}</label>
    <input id="${id}" name="${key}" data-pointer="${pointer}/${key}" value="${value}" autocomplete="off">
    ${hint ? `<p class="hint" id="${id}-hint">${hint}</p>` : ""}</div>`;
}

/** The controls of one pool; `pointer` is the pool's JSON pointer in the request. */
export function poolFields(prefix, pointer, kind, defaults) {
  const client = kind === "client";
  return [
    client ? text(prefix, pointer, "name", "Pool name", defaults.name) : "",
    checkboxes(prefix, `${pointer}/capacityTypes`, "capacityTypes", CAPACITY, defaults.capacityTypes),
    checkboxes(prefix, `${pointer}/architectures`, "architectures", ARCHITECTURES, defaults.architectures),
    text(prefix, pointer, "instanceCategories", "Instance categories", defaults.instanceCategories, "Comma-separated, such as c, m, r."),
    client
      ? text(prefix, pointer, "instanceGenerations", "Instance generations", defaults.instanceGenerations, "Comma-separated, such as 6, 7.")
      : text(prefix, pointer, "instanceSizes", "Instance sizes", defaults.instanceSizes, "Comma-separated, such as large, xlarge."),
    text(prefix, pointer, "cpu", "CPU limit", defaults.cpu, "vCPUs the pool may run at most."),
    text(prefix, pointer, "memory", "Memory limit", defaults.memory, "Such as 256Gi."),
    client
      ? `<div class="field" data-field><label for="${prefix}-consolidation">Consolidation</label>
         <select id="${prefix}-consolidation" name="consolidation" data-pointer="${pointer}/consolidation/policy">
           <option ${defaults.consolidation === "WhenEmptyOrUnderutilized" ? "selected" : ""}>WhenEmptyOrUnderutilized</option>
           <option ${defaults.consolidation === "WhenEmpty" ? "selected" : ""}>WhenEmpty</option>
         </select></div>`
      : "",
  ].join("\n");
}

export const INFRA_DEFAULTS = {
  capacityTypes: ["on-demand"],
  architectures: ["amd64"],
  instanceCategories: "m, c",
  instanceSizes: "xlarge, 2xlarge, 4xlarge",
  cpu: "64",
  memory: "256Gi",
};

export const CLIENT_DEFAULTS = {
  name: "web",
  capacityTypes: ["spot", "on-demand"],
  architectures: ["amd64", "arm64"],
  instanceCategories: "c, m, r",
  instanceGenerations: "6, 7, 8",
  cpu: "200",
  memory: "800Gi",
  consolidation: "WhenEmptyOrUnderutilized",
};

const list = (s) =>
  s
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean);
const number = (s) => (/^\s*-?\d+\s*$/.test(s) ? Number(s) : s.trim());

function readPool(root, client) {
  const value = (name) => root.querySelector(`[name="${name}"]`)?.value ?? "";
  const checked = (name) => [...root.querySelectorAll(`input[name="${name}"]:checked`)].map((i) => i.value);
  const pool = {};
  if (client) pool.name = value("name").trim();
  pool.capacityTypes = checked("capacityTypes");
  pool.architectures = checked("architectures");
  pool.instanceCategories = list(value("instanceCategories"));
  if (client) pool.instanceGenerations = list(value("instanceGenerations")).map(number);
  else pool.instanceSizes = list(value("instanceSizes"));
  pool.limits = { cpu: number(value("cpu")), memory: value("memory").trim() };
  if (client) pool.consolidation = { policy: value("consolidation") };
  return pool;
}

/** The request the form describes, as an object and as the YAML text the page sends. */
export function readRequest(form) {
  const v = (id) => form.querySelector(`#${id}`).value;
  const client = v("f-client").trim();
  const request = {
    apiVersion: "eksgate.dev/v1alpha1",
    kind: "ClusterRequest",
    metadata: { name: `${client}-${v("f-environment")}` },
    spec: {
      clientName: client,
      environment: v("f-environment"),
      region: v("f-region").trim(),
      kubernetesVersion: v("f-version").trim(),
      mode: v("f-mode"),
      infraPool: readPool(form.querySelector("#infra-pool"), false),
      clientPools: [...form.querySelectorAll("[data-client-pool]")].map((p) => readPool(p, true)),
      billing: {
        costCentre: v("f-cost-center").trim(),
        team: v("f-team").trim(),
        clientId: v("f-client-id").trim(),
      },
      compliance: {
        kmsKeyArn: v("f-kms").trim(),
        imdsHopLimit: number(v("f-hop")),
      },
    },
  };
  return { request, text: toYaml(request), client };
}
