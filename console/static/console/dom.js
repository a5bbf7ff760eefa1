// Tiny DOM builders. Everything that comes from the server (patient names,
// message bodies, file names) goes in as text nodes, never as HTML: patient
// messages can contain "<script>".

const SVG_NS = "http://www.w3.org/2000/svg";

/**
 * el("button", { class: "x", type: "button", "aria-label": "…", dataset: {id: 1} }, "text", child)
 * Attributes named aria-*, data-*, role and for are set as attributes; anything
 * else as a property. null/undefined/false values and children are skipped.
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "innerHTML" || key === "outerHTML") throw new Error("el(): build DOM, do not parse HTML");
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "for") node.htmlFor = value;
    else if (key === "role" || key.startsWith("aria-") || key.startsWith("data-")) {
      node.setAttribute(key, value === true ? "true" : String(value));
    } else node[key] = value;
  }
  append(node, children);
  return node;
}

/** Append strings (as text), nodes and nested arrays; skip empty values. */
export function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false || child === "") continue;
    if (Array.isArray(child)) append(node, child);
    else node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Replace a node's children (strings become text). */
export function setChildren(node, ...children) {
  node.replaceChildren();
  return append(node, children);
}

// Stroke icons on a 24×24 grid, drawn with currentColor so they follow the
// text colour (and its contrast). Decorative: every use has a text label.
const ICONS = {
  sms: ["M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2z", "M7 9h10", "M7 13h6"],
  voice: ["M5 3h4l2 5-2.5 1.5a11 11 0 0 0 6 6L16 13l5 2v4a2 2 0 0 1-2 2A17 17 0 0 1 3 5a2 2 0 0 1 2-2z"],
  web: ["M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18z", "M3 12h18", "M12 3c3 3.5 3 14.5 0 18c-3-3.5-3-14.5 0-18z"],
  api: ["M8 6l-6 6 6 6", "M16 6l6 6-6 6", "M14 4l-4 16"],
  urgent: ["M12 3l10 18H2z", "M12 10v4", "M12 17v.5"],
  note: ["M4 20h4L19 9l-4-4L4 16z", "M13 7l4 4"],
  file: ["M6 2h9l5 5v15H6z", "M14 2v6h6"],
  bolt: ["M13 2L4 14h7l-1 8 9-12h-7z"],
  unread: ["M12 8a4 4 0 1 0 0 8a4 4 0 1 0 0-8z"],
  high: ["M12 19V5", "M5 12l7-7 7 7"],
  clock: ["M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18z", "M12 7v5l3 2"],
  pause: ["M9 6v12", "M15 6v12"],
  bell: ["M6 16V11a6 6 0 0 1 12 0v5l2 2H4z", "M10 21h4"],
};

export function icon(name, className = "icon") {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  svg.setAttribute("class", className);
  for (const d of ICONS[name] || ICONS.api) {
    const path = document.createElementNS(SVG_NS, "path");
    path.setAttribute("d", d);
    svg.append(path);
  }
  return svg;
}

export const byId = (id) => document.getElementById(id);

/** True when keystrokes go to a text field (so single-key shortcuts must not fire). */
export function isTextEntry(target) {
  if (!(target instanceof Element)) return false;
  if (target.isContentEditable) return true;
  if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  if (target instanceof HTMLInputElement) {
    return !["button", "submit", "reset", "checkbox", "radio", "range", "color", "file", "image"].includes(target.type);
  }
  return false;
}
