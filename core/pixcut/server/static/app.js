// pixcut's web page: a client of POST /api/v2/remove-background like any other.
// No framework, no build step, no network beyond this server. The API has no field for a mask or
// for WebP, so the page asks for a PNG cutout and derives those in the browser (canvas).
"use strict";

const API = "/api/v2/remove-background";
const $ = (selector, root = document) => root.querySelector(selector);
const items = []; // {file, node, originalUrl, result: {blob, name} | null, error}
let credentials = sessionStorage.getItem("pixcut-credentials"); // "id:secret" for this tab only
let waitingForCredentials = [];

// ---- options -> the API's form fields ---------------------------------------------------------

function readOptions() {
  const form = $("#options");
  const output = form.output.value;
  const format = form.format.value;
  const fields = {};
  if (form["use-background"].checked && output === "cutout") fields["background.color"] = form.background.value.toUpperCase();
  if (form.crop.checked) fields["result.crop_to_foreground"] = "true";
  if (form.margin.value.trim()) fields["result.margin"] = form.margin.value.trim();
  const width = form["target-width"].value.trim();
  const height = form["target-height"].value.trim();
  if (width || height) fields["result.target_size"] = `${width} ${height}`;
  fields["result.vertical_alignment"] = form.alignment.value;
  // The wire gives PNG or JPEG; a mask and WebP are derived from the PNG cutout here.
  fields["output.format"] = output === "cutout" && format === "jpeg" ? "jpeg" : "png";
  return { fields, output, format };
}

function extensionOf(output, format) {
  if (output === "mask") return format === "webp" ? ".webp" : ".png";
  return { png: ".png", jpeg: ".jpg", webp: ".webp" }[format];
}

function resultName(fileName, output, format) {
  const stem = fileName.replace(/\.[^.]*$/, "") || "image";
  return `${stem}-${output === "mask" ? "mask" : "cutout"}${extensionOf(output, format)}`;
}

// ---- the request -------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function removeBackground(file, fields) {
  const body = new FormData();
  body.append("image", file, file.name);
  for (const [name, value] of Object.entries(fields)) body.append(name, value);
  const headers = {};
  if (credentials) headers.Authorization = "Basic " + btoa(unescape(encodeURIComponent(credentials)));
  // credentials: "omit" keeps the browser's own Basic-auth prompt away; the page asks instead.
  const response = await fetch(API, { method: "POST", body, headers, credentials: "omit" });
  if (!response.ok) {
    let message = `HTTP ${response.status}`;
    try {
      const error = (await response.json()).error;
      if (error && error.message) message = error.message;
    } catch (_) { /* not JSON: keep the status */ }
    throw new ApiError(response.status, message);
  }
  return { blob: await response.blob(), geometry: geometryOf(response.headers) };
}

// Where the result sits on the original, from the API's foreground headers (the host plug-ins'
// placement rule), so the before/after slider lines the two up even after crop or target size.
function geometryOf(headers) {
  const numbers = (name) => (headers.get(name) || "").trim().split(/\s+/).map(Number);
  const [inputWidth, inputHeight] = numbers("X-Input-Size");
  const [inTop, inLeft, inWidth, inHeight] = numbers("X-Input-Foreground");
  const [outTop, outLeft, outWidth, outHeight] = numbers("X-Result-Foreground");
  const [resultWidth, resultHeight] = numbers("X-Result-Size");
  if (![inputWidth, inputHeight, inWidth, inHeight, outWidth, outHeight, resultWidth, resultHeight].every((v) => v > 0)) {
    return null; // no foreground: nothing to line up
  }
  const sx = inWidth / outWidth;
  const sy = inHeight / outHeight;
  return {
    ratio: inputWidth / inputHeight,
    left: ((inLeft - outLeft * sx) / inputWidth) * 100,
    top: ((inTop - outTop * sy) / inputHeight) * 100,
    width: ((resultWidth * sx) / inputWidth) * 100,
    height: ((resultHeight * sy) / inputHeight) * 100,
  };
}

function placeCompare(node, geometry) {
  const stage = $(".stage", node);
  const after = $(".after-image", node);
  if (!geometry) {
    stage.style.cssText = "";
    after.style.cssText = "";
    return;
  }
  stage.style.height = "auto";
  stage.style.aspectRatio = String(geometry.ratio);
  stage.style.width = `min(480px, 100%, ${Math.round(360 * geometry.ratio)}px)`;
  Object.assign(after.style, {
    inset: "auto",
    left: `${geometry.left}%`,
    top: `${geometry.top}%`,
    width: `${geometry.width}%`,
    height: `${geometry.height}%`,
    objectFit: "fill",
    maxWidth: "none",
  });
}

async function canvasOf(blob) {
  const bitmap = await createImageBitmap(blob, { premultiplyAlpha: "none", colorSpaceConversion: "none" });
  const canvas = document.createElement("canvas");
  canvas.width = bitmap.width;
  canvas.height = bitmap.height;
  canvas.getContext("2d").drawImage(bitmap, 0, 0);
  bitmap.close();
  return canvas;
}

function encodeCanvas(canvas, type) {
  return new Promise((resolve, reject) =>
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error(`this browser cannot write ${type}`))), type, 1));
}

async function derive(blob, output, format) {
  if (output === "cutout" && format !== "webp") return blob; // the server's bytes, untouched
  const canvas = await canvasOf(blob);
  if (output === "mask") {
    const context = canvas.getContext("2d");
    const pixels = context.getImageData(0, 0, canvas.width, canvas.height);
    const data = pixels.data;
    for (let i = 0; i < data.length; i += 4) {
      const alpha = data[i + 3];
      data[i] = data[i + 1] = data[i + 2] = alpha;
      data[i + 3] = 255;
    }
    context.putImageData(pixels, 0, 0);
  }
  return encodeCanvas(canvas, format === "webp" ? "image/webp" : "image/png");
}

// ---- the list of results -----------------------------------------------------------------------

function addFiles(files) {
  for (const file of files) {
    const node = $("#result-template").content.firstElementChild.cloneNode(true);
    const item = { file, node, originalUrl: URL.createObjectURL(file), result: null, error: null };
    $(".name", node).textContent = file.name;
    const original = $(".original", node);
    original.src = item.originalUrl;
    original.alt = `Original: ${file.name}`;
    $(".before", node).src = item.originalUrl;
    const slider = $(".slider", node);
    slider.setAttribute("aria-label", `Before and after for ${file.name}`);
    slider.addEventListener("input", () => {
      $(".after", node).style.clipPath = `inset(0 0 0 ${slider.value}%)`;
    });
    $("#results").append(node);
    items.push(item);
  }
  processAll(items.filter((item) => files.includes(item.file)));
}

function show(item, state) {
  const node = item.node;
  node.classList.toggle("busy", state === "busy");
  const error = $(".error", node);
  error.hidden = !item.error;
  error.textContent = item.error ? `Could not remove the background: ${item.error}` : "";
  const link = $(".download", node);
  const cutout = $(".cutout", node);
  const after = $(".after-image", node);
  if (item.result) {
    if (cutout.src) URL.revokeObjectURL(cutout.src);
    const url = URL.createObjectURL(item.result.blob);
    cutout.src = url;
    cutout.alt = `Result: ${item.result.name}`;
    after.src = url;
    placeCompare(node, item.result.geometry);
    link.href = url;
    link.download = item.result.name;
    link.textContent = `Download ${item.result.name}`;
  }
  link.hidden = !item.result;
  $(".compare", node).hidden = !item.result;
  updateSummary();
}

function updateSummary() {
  const done = items.filter((item) => item.result).length;
  const failed = items.filter((item) => item.error).length;
  const busy = items.length - done - failed;
  $("#status").textContent = items.length
    ? `${done} done, ${failed} failed${busy ? `, ${busy} working` : ""} (of ${items.length}).`
    : "No photos yet.";
  $("#download-all").disabled = done === 0;
}

async function processOne(item, options) {
  item.error = null;
  show(item, "busy");
  try {
    const { blob, geometry } = await removeBackground(item.file, options.fields);
    item.result = {
      blob: await derive(blob, options.output, options.format),
      name: resultName(item.file.name, options.output, options.format),
      geometry,
    };
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      askForCredentials(item, error.message);
      return;
    }
    item.result = null;
    item.error = error.message || String(error);
  }
  show(item, "done");
}

async function processAll(list) {
  const options = readOptions();
  // One at a time: the server's queue is for many clients, and the page stays responsive.
  for (const item of list) await processOne(item, options);
}

function askForCredentials(item, message) {
  waitingForCredentials.push(item);
  item.error = credentials ? message : null;
  show(item, "waiting");
  const panel = $("#credentials");
  if (panel.hidden) {
    panel.hidden = false;
    $("#api-id").focus();
  }
}

// ---- zip (store only: PNG/JPEG/WebP are compressed already) -------------------------------------

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes) {
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = CRC_TABLE[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

async function zipOf(entries) {
  const encoder = new TextEncoder();
  const parts = [];
  const central = [];
  let offset = 0;
  const used = new Set();
  for (const { name, blob } of entries) {
    let unique = name;
    for (let n = 2; used.has(unique); n++) unique = name.replace(/(\.[^.]*)?$/, `-${n}$1`);
    used.add(unique);
    const data = new Uint8Array(await blob.arrayBuffer());
    const nameBytes = encoder.encode(unique);
    const crc = crc32(data);
    const local = new DataView(new ArrayBuffer(30));
    local.setUint32(0, 0x04034b50, true);
    local.setUint16(4, 20, true);
    local.setUint16(6, 0x0800, true); // UTF-8 names
    local.setUint32(14, crc, true);
    local.setUint32(18, data.length, true);
    local.setUint32(22, data.length, true);
    local.setUint16(26, nameBytes.length, true);
    parts.push(local, nameBytes, data);
    const entry = new DataView(new ArrayBuffer(46));
    entry.setUint32(0, 0x02014b50, true);
    entry.setUint16(4, 20, true);
    entry.setUint16(6, 20, true);
    entry.setUint16(8, 0x0800, true);
    entry.setUint32(16, crc, true);
    entry.setUint32(20, data.length, true);
    entry.setUint32(24, data.length, true);
    entry.setUint16(28, nameBytes.length, true);
    entry.setUint32(42, offset, true);
    central.push(entry, nameBytes);
    offset += 30 + nameBytes.length + data.length;
  }
  const size = central.reduce((sum, part) => sum + part.byteLength, 0);
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true);
  end.setUint16(8, entries.length, true);
  end.setUint16(10, entries.length, true);
  end.setUint32(12, size, true);
  end.setUint32(16, offset, true);
  return new Blob([...parts, ...central, end], { type: "application/zip" });
}

async function downloadAll() {
  const entries = items.filter((item) => item.result).map((item) => item.result);
  const zip = await zipOf(entries);
  const link = document.createElement("a");
  link.href = URL.createObjectURL(zip);
  link.download = "pixcut-results.zip";
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
}

// ---- wiring ------------------------------------------------------------------------------------

function init() {
  const input = $("#files");
  input.addEventListener("change", () => {
    addFiles([...input.files]);
    input.value = "";
  });
  const drop = $("#drop");
  for (const type of ["dragenter", "dragover"]) {
    drop.addEventListener(type, (event) => {
      event.preventDefault();
      drop.classList.add("over");
    });
  }
  for (const type of ["dragleave", "drop"]) drop.addEventListener(type, () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    addFiles([...event.dataTransfer.files]);
  });
  $("#options").addEventListener("submit", (event) => {
    event.preventDefault();
    processAll(items.slice());
  });
  $("#download-all").addEventListener("click", downloadAll);
  $("#credentials-form").addEventListener("submit", (event) => {
    event.preventDefault();
    credentials = `${$("#api-id").value}:${$("#api-secret").value}`;
    sessionStorage.setItem("pixcut-credentials", credentials);
    $("#credentials").hidden = true;
    const retry = waitingForCredentials;
    waitingForCredentials = [];
    processAll(retry);
  });
  document.body.dataset.ready = "true";
}

init();
