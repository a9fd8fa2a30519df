#!/usr/bin/env node
// Writes the generated raw-message fixtures under tests/fixtures/messages/generated/
// and rebuilds tests/fixtures/messages/index.json (real + generated).
//
// Plain Node ESM, no dependencies, deterministic: every random byte comes from a
// seeded PRNG, no clock is read, and files are written in a fixed order, so
// `node scripts/make-fixtures.mjs` gives identical bytes on every run.
//
// The messages are raw bytes on purpose: CRLF, bare LF, mixed endings, 8bit and
// binary bodies, broken MIME and plain garbage. They exist so that
// join(split(m)) can be checked to equal m byte for byte.

import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "tests", "fixtures", "messages");
const GEN = join(ROOT, "generated");

// ---------------------------------------------------------------- PRNG ----
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
let rnd = mulberry32(0x5eed);
const reseed = (s) => { rnd = mulberry32(s); };
const ri = (n) => Math.floor(rnd() * n); // 0..n-1
const pick = (arr) => arr[ri(arr.length)];
function randBytes(n, seed) {
  const r = seed === undefined ? rnd : mulberry32(seed);
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
  return b;
}

const WORDS = ("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor " +
  "incididunt ut labore et dolore magna aliqua enim ad minim veniam quis nostrud exercitation " +
  "ullamco laboris nisi aliquip ex ea commodo consequat duis aute irure in reprehenderit " +
  "voluptate velit esse cillum fugiat nulla pariatur excepteur sint occaecat cupidatat non " +
  "proident sunt culpa qui officia deserunt mollit anim id est laborum mail key store " +
  "encrypted message folder inbox draft sent archive").split(" ");
function sentence(n = 8 + ri(10)) {
  const w = [];
  for (let i = 0; i < n; i++) w.push(pick(WORDS));
  const s = w.join(" ");
  return s[0].toUpperCase() + s.slice(1) + ".";
}
function paragraph(lines = 3 + ri(5)) {
  const out = [];
  for (let i = 0; i < lines; i++) out.push(sentence());
  return out.join("\n");
}

// ------------------------------------------------------------- bytes ------
const B = (x) => (Buffer.isBuffer(x) ? x : typeof x === "string" ? Buffer.from(x, "utf8") : Buffer.from(x));
const latin1 = (s) => Buffer.from(s, "latin1");
const cat = (...xs) => Buffer.concat(xs.flat(Infinity).map(B));
// Turns every "\n" in a JS string into the chosen line ending.
const eolize = (s, eol) => (eol === "\n" ? s : s.replace(/\n/g, eol));
// Buffer version: replace LF (0x0a) by eol bytes. Only used on text we built with bare LF.
function eolBuf(buf, eol) {
  if (eol === "\n") return buf;
  const parts = [];
  let start = 0;
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] === 0x0a) { parts.push(buf.subarray(start, i), B(eol)); start = i + 1; }
  }
  parts.push(buf.subarray(start));
  return Buffer.concat(parts);
}

function wrap(str, width) {
  const out = [];
  for (let i = 0; i < str.length; i += width) out.push(str.slice(i, i + width));
  return out.join("\n");
}
const b64 = (buf, width = 76) => wrap(B(buf).toString("base64"), width);

function qpEncode(buf) {
  buf = B(buf);
  const lines = [];
  let line = "";
  const push = (tok) => {
    if (line.length + tok.length > 75) { lines.push(line + "="); line = ""; }
    line += tok;
  };
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i];
    if (c === 0x0a) {
      // protect trailing whitespace before a hard line break
      if (line.endsWith(" ") || line.endsWith("\t")) {
        const last = line.charCodeAt(line.length - 1);
        line = line.slice(0, -1) + "=" + last.toString(16).toUpperCase().padStart(2, "0");
      }
      lines.push(line); line = ""; continue;
    }
    if (c === 0x0d && buf[i + 1] === 0x0a) continue;
    if ((c >= 33 && c <= 126 && c !== 61) || c === 32 || c === 9) push(String.fromCharCode(c));
    else push("=" + c.toString(16).toUpperCase().padStart(2, "0"));
  }
  lines.push(line);
  return lines.join("\n");
}

// RFC 2047 encoded words
const ewB = (charset, bytes) => `=?${charset}?B?${B(bytes).toString("base64")}?=`;
function ewQ(charset, bytes) {
  let s = "";
  for (const c of B(bytes)) {
    if (c === 0x20) s += "_";
    else if (c > 32 && c < 127 && c !== 0x3d && c !== 0x3f && c !== 0x5f) s += String.fromCharCode(c);
    else s += "=" + c.toString(16).toUpperCase().padStart(2, "0");
  }
  return `=?${charset}?Q?${s}?=`;
}
// RFC 2231 %-encoding
function pct(bytes) {
  let s = "";
  for (const c of B(bytes)) {
    if ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2e || c === 0x2d || c === 0x5f) s += String.fromCharCode(c);
    else s += "%" + c.toString(16).toUpperCase().padStart(2, "0");
  }
  return s;
}

// ----------------------------------------------------------- charsets -----
const CP1252 = { "€": 0x80, "‚": 0x82, "„": 0x84, "…": 0x85, "‘": 0x91, "’": 0x92, "“": 0x93, "”": 0x94, "•": 0x95, "–": 0x96, "—": 0x97, "™": 0x99, "œ": 0x9c, "Ÿ": 0x9f, "Š": 0x8a, "Ž": 0x8e };
function cp1252(s) {
  return Buffer.from([...s].map((ch) => {
    const c = CP1252[ch] ?? ch.charCodeAt(0);
    if (c > 0xff) throw new Error(`no windows-1252 code for ${ch}`);
    return c;
  }));
}
const KOI8_LOWER = "юабцдефгхийклмнопярстужвьызшэщчъ";
const KOI8_UPPER = "ЮАБЦДЕФГХИЙКЛМНОПЯРСТУЖВЬЫЗШЭЩЧЪ";
function koi8r(s) {
  return Buffer.from([...s].map((ch) => {
    let i = KOI8_LOWER.indexOf(ch);
    if (i >= 0) return 0xc0 + i;
    i = KOI8_UPPER.indexOf(ch);
    if (i >= 0) return 0xe0 + i;
    if (ch === "ё") return 0xa3;
    if (ch === "Ё") return 0xb3;
    if (ch.charCodeAt(0) > 0x7f) throw new Error(`no KOI8-R code for ${ch}`);
    return ch.charCodeAt(0);
  }));
}
// JIS X 0208 code for kana plus a few kanji; enough for the fixtures.
const KANJI = { "日": [0x46, 0x7c], "本": [0x4b, 0x5c], "語": [0x38, 0x6c], "件": [0x37, 0x6f], "名": [0x4c, 0x3e], "添": [0x45, 0x3a], "付": [0x49, 0x55], "。": [0x21, 0x23], "、": [0x21, 0x22], "「": [0x21, 0x56], "」": [0x21, 0x57], "ー": [0x21, 0x3c], "文": [0x4a, 0x38] };
function jisOf(ch) {
  const cp = ch.codePointAt(0);
  if (cp < 0x80) return null;
  if (cp >= 0x3041 && cp <= 0x3093) return [0x24, 0x21 + cp - 0x3041];
  if (cp >= 0x30a1 && cp <= 0x30f6) return [0x25, 0x21 + cp - 0x30a1];
  if (KANJI[ch]) return KANJI[ch];
  throw new Error(`no JIS code for ${ch}`);
}
function iso2022jp(s) {
  const out = [];
  let kanji = false;
  for (const ch of s) {
    const j = jisOf(ch);
    if (j) { if (!kanji) { out.push(0x1b, 0x24, 0x42); kanji = true; } out.push(...j); }
    else { if (kanji) { out.push(0x1b, 0x28, 0x42); kanji = false; } out.push(ch.charCodeAt(0)); }
  }
  if (kanji) out.push(0x1b, 0x28, 0x42);
  return Buffer.from(out);
}
function shiftJis(s) {
  const out = [];
  for (const ch of s) {
    const j = jisOf(ch);
    if (!j) { out.push(ch.charCodeAt(0)); continue; }
    const [j1, j2] = j;
    const s1 = ((j1 + 1) >> 1) + (j1 <= 0x5e ? 0x70 : 0xb0);
    const s2 = j1 & 1 ? j2 + (j2 >= 0x60 ? 0x20 : 0x1f) : j2 + 0x7e;
    out.push(s1, s2);
  }
  return Buffer.from(out);
}
function eucJp(s) {
  const out = [];
  for (const ch of s) {
    const j = jisOf(ch);
    if (j) out.push(j[0] | 0x80, j[1] | 0x80); else out.push(ch.charCodeAt(0));
  }
  return Buffer.from(out);
}
const GB2312_ZHONGWEN = Buffer.from([0xd6, 0xd0, 0xce, 0xc4]); // 中文
const GB2312_NIHAO = Buffer.from([0xc4, 0xe3, 0xba, 0xc3]); // 你好
const BIG5_ZHONGWEN = Buffer.from([0xa4, 0xa4, 0xa4, 0xe5]); // 中文

// ------------------------------------------------------------ MIME --------
// A node is either a Buffer (already serialised) or an object:
//   { headers: [[name, value]], body }                      leaf
//   { headers, boundary, parts: [node], preamble, epilogue,
//     close: true, pad: "", closePad: "" }                   multipart
// Header values and string bodies use "\n" for line breaks; they are turned
// into the node's eol ("\r\n" by default). Buffers are copied untouched.
function headerBlock(headers, eol) {
  const out = [];
  for (const h of headers) {
    if (Buffer.isBuffer(h)) { out.push(h); continue; } // raw header line(s) incl. eol
    const [name, value] = h;
    if (Buffer.isBuffer(value)) out.push(B(name + ": "), value, B(eol));
    else out.push(B(eolize(`${name}: ${value}`, eol) + eol));
  }
  return Buffer.concat(out);
}
function render(node, eol = "\r\n") {
  if (Buffer.isBuffer(node)) return node;
  const e = node.eol ?? eol;
  const head = headerBlock(node.headers ?? [], e);
  if (!node.parts) {
    const body = node.body === undefined ? B("") : Buffer.isBuffer(node.body) ? node.body : B(eolize(node.body, e));
    return cat(head, e, body);
  }
  const b = node.boundary;
  const chunks = [head, e];
  if (node.preamble !== undefined) chunks.push(Buffer.isBuffer(node.preamble) ? node.preamble : B(eolize(node.preamble, e)), e);
  // each delimiter line is followed by the part and an eol (the eol before a
  // delimiter belongs to the delimiter, RFC 2046 5.1.1)
  node.parts.forEach((p) => {
    chunks.push(`--${b}${node.pad ?? ""}${e}`, render(p, e), e);
  });
  if (node.close !== false) {
    chunks.push(`--${b}--${node.closePad ?? ""}`);
    if (node.epilogue !== undefined) chunks.push(e, Buffer.isBuffer(node.epilogue) ? node.epilogue : B(eolize(node.epilogue, e)));
    else if (node.noFinalEol !== true) chunks.push(e);
  }
  return cat(chunks);
}

let msgCounter = 0;
function msgId() { msgCounter++; return `<gen.${msgCounter}.${(rnd() * 1e9) >>> 0}@fixtures.example>`; }
const DATES = ["Mon, 02 Jan 2023 10:04:05 +0000", "Tue, 14 Feb 2023 23:59:59 +0100", "Wed, 31 May 2023 08:00:00 -0700", "Thu, 05 Oct 2023 12:30:00 +0900", "Fri, 29 Dec 2023 17:45:12 -0300"];
const PEOPLE = ["Alice Example <alice@example.org>", "Bob <bob@example.net>", "carol@example.com", "\"Dave, the tester\" <dave@test.example>", "Eve <eve@example.org>"];
function topHeaders(subject, extra = []) {
  return [
    ["Return-Path", `<${pick(["alice", "bob", "carol"])}@example.org>`],
    ["Received", `from mx${ri(9)}.example.org (mx.example.org [192.0.2.${1 + ri(250)}])\n\tby mail.example.net with ESMTPS id ${randId(10)}\n\tfor <bob@example.net>; ${pick(DATES)}`],
    ["From", pick(PEOPLE)],
    ["To", pick(PEOPLE)],
    ["Subject", subject],
    ["Date", pick(DATES)],
    ["Message-ID", msgId()],
    ["MIME-Version", "1.0"],
    ...extra,
  ];
}
function randId(n) {
  const a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  let s = "";
  for (let i = 0; i < n; i++) s += a[ri(a.length)];
  return s;
}
const boundary = (tag = "") => `----=_Part_${tag}${randId(16)}`;

const textPart = (text, extra = []) => ({ headers: [["Content-Type", "text/plain; charset=utf-8"], ["Content-Transfer-Encoding", "7bit"], ...extra], body: text });
const htmlPart = (text) => ({ headers: [["Content-Type", "text/html; charset=utf-8"], ["Content-Transfer-Encoding", "quoted-printable"]], body: qpEncode(B(`<html><head><meta charset="utf-8"></head><body>\n<p>${text.replace(/\n/g, "</p>\n<p>")}</p>\n</body></html>\n`)) });
function fakePng(n, seed) {
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
  return cat(sig, randBytes(n, seed));
}
const attachment = (bytes, name, type = "application/octet-stream", width = 76) => ({
  headers: [["Content-Type", `${type}; name="${name}"`], ["Content-Disposition", `attachment; filename="${name}"`], ["Content-Transfer-Encoding", "base64"]],
  body: b64(bytes, width) + "\n",
});
const inlineImage = (bytes, cid) => ({
  headers: [["Content-Type", "image/png"], ["Content-ID", `<${cid}>`], ["Content-Disposition", `inline; filename="${cid.split("@")[0]}.png"`], ["Content-Transfer-Encoding", "base64"]],
  body: b64(bytes) + "\n",
});
function armored(kind, n, seed) {
  const data = randBytes(n, seed);
  const crc = randBytes(3, seed + 1).toString("base64");
  return `-----BEGIN PGP ${kind}-----\n\n${b64(data, 64)}\n=${crc}\n-----END PGP ${kind}-----\n`;
}
const signaturePart = (seed) => ({
  headers: [["Content-Type", "application/pgp-signature; name=\"signature.asc\""], ["Content-Description", "OpenPGP digital signature"], ["Content-Disposition", "attachment; filename=\"signature.asc\""]],
  body: armored("SIGNATURE", 119, seed),
});
function encryptedParts(seed, n = 600) {
  return [
    { headers: [["Content-Type", "application/pgp-encrypted"], ["Content-Description", "PGP/MIME version identification"]], body: "Version: 1\n" },
    { headers: [["Content-Type", "application/octet-stream; name=\"encrypted.asc\""], ["Content-Description", "OpenPGP encrypted message"], ["Content-Disposition", "inline; filename=\"encrypted.asc\""]], body: armored("MESSAGE", n, seed) },
  ];
}

// ------------------------------------------------------------ output ------
const entries = []; // { path, kind, ...extra }
const written = new Set();
function emit(name, kind, bytes, extra = {}) {
  const rel = `generated/${name}`;
  if (written.has(rel)) throw new Error(`duplicate fixture name ${rel}`);
  written.add(rel);
  const buf = Buffer.isBuffer(bytes) ? bytes : render(bytes);
  writeFileSync(join(GEN, name), buf);
  entries.push({ path: rel, kind: `generated:${kind}`, ...extra });
}
const EOLS = { crlf: "\r\n", lf: "\n" };

rmSync(GEN, { recursive: true, force: true });
mkdirSync(GEN, { recursive: true });

// =================================================================== cases

// ---- nested multipart: mixed / alternative / related ---------------------
reseed(101);
for (const [tag, eol] of Object.entries(EOLS)) {
  const txt = paragraph();
  const png = fakePng(900, 7);
  emit(`nested-mixed-alt-${tag}.eml`, "nested-multipart", render({
    headers: topHeaders("mixed > alternative + attachment", [["Content-Type", `multipart/mixed; boundary="${(tag === "crlf" ? "outer-mixed-1" : "outer-mixed-2")}"`]]),
    boundary: tag === "crlf" ? "outer-mixed-1" : "outer-mixed-2",
    preamble: "This is a multi-part message in MIME format.",
    parts: [
      { headers: [["Content-Type", "multipart/alternative; boundary=\"inner-alt\""]], boundary: "inner-alt", parts: [textPart(txt), htmlPart(txt)] },
      attachment(randBytes(1500, 11), "report.bin"),
    ],
  }, eol));
  emit(`nested-mixed-alt-related-${tag}.eml`, "nested-multipart", render({
    headers: topHeaders("mixed > alternative > related (inline image)", [["Content-Type", "multipart/mixed;\n boundary=\"=_mixed_0001\""]]),
    boundary: "=_mixed_0001",
    parts: [
      {
        headers: [["Content-Type", "multipart/alternative; boundary=\"=_alt_0002\""]], boundary: "=_alt_0002", parts: [
          textPart(txt),
          {
            headers: [["Content-Type", "multipart/related; type=\"text/html\"; boundary=\"=_rel_0003\""]], boundary: "=_rel_0003", parts: [
              { headers: [["Content-Type", "text/html; charset=utf-8"]], body: `<html><body><p>${txt}</p><img src="cid:logo@fixtures.example"></body></html>\n` },
              inlineImage(png, "logo@fixtures.example"),
            ],
          },
        ],
      },
      attachment(randBytes(700, 12), "data.bin"),
      attachment(B(paragraph(6) + "\n"), "notes.txt", "text/plain"),
    ],
  }, eol));
}
// related as the root, with start parameter
reseed(102);
emit("nested-related-root.eml", "nested-multipart", render({
  headers: topHeaders("related root with start=", [["Content-Type", "multipart/related; type=\"multipart/alternative\"; start=\"<root@x>\"; boundary=rel"]]),
  boundary: "rel",
  parts: [
    { headers: [["Content-Type", "multipart/alternative; boundary=alt"], ["Content-ID", "<root@x>"]], boundary: "alt", parts: [textPart("plain\n"), htmlPart("html")] },
    inlineImage(fakePng(300, 21), "img1@x"),
    inlineImage(fakePng(300, 22), "img2@x"),
  ],
}));
// random trees
function randomTree(depth, eol) {
  if (depth <= 0 || rnd() < 0.3) {
    const k = ri(5);
    if (k === 0) return textPart(paragraph(1 + ri(4)));
    if (k === 1) return htmlPart(sentence());
    if (k === 2) return attachment(randBytes(50 + ri(800)), `file${ri(100)}.bin`);
    if (k === 3) return { headers: [["Content-Type", "text/plain; charset=iso-8859-1"], ["Content-Transfer-Encoding", "quoted-printable"]], body: qpEncode(latin1("Caf\u00e9 cr\u00e8me br\u00fbl\u00e9e " + sentence() + "\n")) };
    return { headers: [["Content-Type", "text/plain"]], body: "" };
  }
  const sub = pick(["mixed", "alternative", "related", "mixed", "parallel", "digest"]);
  const b = boundary(sub.slice(0, 3) + depth + "_");
  const n = 1 + ri(4);
  const parts = [];
  for (let i = 0; i < n; i++) parts.push(randomTree(depth - 1, eol));
  return { headers: [["Content-Type", `multipart/${sub}; boundary="${b}"`]], boundary: b, parts, preamble: rnd() < 0.3 ? "preamble " + sentence() : undefined, epilogue: rnd() < 0.3 ? "epilogue " + sentence() + "\n" : undefined };
}
for (let i = 1; i <= 10; i++) {
  reseed(1000 + i);
  const eol = i % 3 === 0 ? "\n" : "\r\n";
  const tree = randomTree(2 + (i % 4), eol);
  if (!tree.parts) { tree.headers = topHeaders(`random tree ${i}`, tree.headers); emit(`nested-random-${String(i).padStart(2, "0")}.eml`, "nested-multipart", render(tree, eol)); continue; }
  tree.headers = topHeaders(`random tree ${i}`, tree.headers);
  emit(`nested-random-${String(i).padStart(2, "0")}.eml`, "nested-multipart", render(tree, eol));
}
// deep nesting: 60 levels of multipart/mixed
{
  reseed(103);
  let node = textPart("the innermost part\n");
  for (let d = 60; d >= 1; d--) node = { headers: [["Content-Type", `multipart/mixed; boundary="deep-${d}"`]], boundary: `deep-${d}`, parts: [node] };
  node.headers = topHeaders("60 levels deep", node.headers);
  emit("nested-deep-60.eml", "nested-multipart", render(node));
}
// wide: 400 parts
{
  reseed(104);
  const parts = [];
  for (let i = 0; i < 400; i++) parts.push(i % 7 === 0 ? attachment(randBytes(40 + ri(60)), `p${i}.bin`) : textPart(`part ${i}: ${sentence(4)}\n`));
  emit("nested-wide-400-parts.eml", "nested-multipart", render({ headers: topHeaders("400 parts", [["Content-Type", "multipart/mixed; boundary=wide"]]), boundary: "wide", parts }, "\n"));
}
// similar boundaries: inner boundary is an extension of the outer one
reseed(105);
emit("nested-similar-boundaries.eml", "nested-multipart", render({
  headers: topHeaders("inner boundary starts with outer boundary", [["Content-Type", "multipart/mixed; boundary=\"abc\""]]),
  boundary: "abc",
  parts: [
    { headers: [["Content-Type", "multipart/alternative; boundary=\"abc-def\""]], boundary: "abc-def", parts: [textPart("one\n"), textPart("two\n")] },
    textPart("three\n"),
  ],
}));

// ---- multipart/signed (RFC 3156 and S/MIME) ------------------------------
reseed(201);
for (const [tag, eol] of Object.entries(EOLS)) {
  emit(`signed-pgp-text-${tag}.eml`, "signed", render({
    headers: topHeaders("PGP/MIME signed text", [["Content-Type", "multipart/signed; micalg=pgp-sha256;\n protocol=\"application/pgp-signature\";\n boundary=\"sig-b1\""]]),
    boundary: "sig-b1",
    preamble: "This is an OpenPGP/MIME signed message (RFC 4880 and 3156)",
    parts: [{ headers: [["Content-Type", "text/plain; charset=UTF-8"], ["Content-Transfer-Encoding", "quoted-printable"]], body: qpEncode(B("Signed text with trailing space \nand a Gr\u00fc\u00dfe.\n")) }, signaturePart(300 + tag.length)],
  }, eol));
  emit(`signed-pgp-mixed-${tag}.eml`, "signed", render({
    headers: topHeaders("PGP/MIME signed mixed with attachment", [["Content-Type", "multipart/signed; micalg=pgp-sha512; protocol=\"application/pgp-signature\"; boundary=\"sig-b2\""]]),
    boundary: "sig-b2",
    parts: [
      {
        headers: [["Content-Type", "multipart/mixed; boundary=\"signed-inner\"; protected-headers=\"v1\""], ["Subject", "PGP/MIME signed mixed with attachment"], ["From", "Alice Example <alice@example.org>"]], boundary: "signed-inner",
        parts: [textPart(paragraph()), attachment(randBytes(400, 310), "contract.pdf", "application/pdf")],
      },
      signaturePart(311),
    ],
  }, eol));
}
reseed(202);
emit("signed-smime.eml", "signed", render({
  headers: topHeaders("S/MIME detached signature", [["Content-Type", "multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=sha-256; boundary=\"----smime-b\""]]),
  boundary: "----smime-b",
  preamble: "This is an S/MIME signed message",
  parts: [textPart(paragraph()), { headers: [["Content-Type", "application/pkcs7-signature; name=\"smime.p7s\""], ["Content-Transfer-Encoding", "base64"], ["Content-Disposition", "attachment; filename=\"smime.p7s\""]], body: b64(randBytes(1200, 320)) + "\n" }],
}));
emit("signed-inside-mixed.eml", "signed", render({
  headers: topHeaders("mixed containing a signed part (mailing-list footer)", [["Content-Type", "multipart/mixed; boundary=\"list-footer\""]]),
  boundary: "list-footer",
  parts: [
    { headers: [["Content-Type", "multipart/signed; micalg=pgp-sha256; protocol=\"application/pgp-signature\"; boundary=\"sig-inner\""]], boundary: "sig-inner", parts: [textPart("signed body\n"), signaturePart(330)] },
    textPart("_______________________________________________\nlist mailing list\nlist@lists.example.org\n"),
  ],
}));
// signed body whose bytes must not change: trailing whitespace, tabs, "From " line
emit("signed-whitespace-sensitive.eml", "signed", render({
  headers: topHeaders("signed: trailing whitespace and From_ line", [["Content-Type", "multipart/signed; micalg=pgp-sha256; protocol=\"application/pgp-signature\"; boundary=\"ws\""]]),
  boundary: "ws",
  parts: [{ headers: [["Content-Type", "text/plain; charset=us-ascii"]], body: "line with two trailing spaces  \n\tline starting with a tab\t\nFrom the start of a line\n.\n..\n" }, signaturePart(331)],
}));

// ---- multipart/encrypted (RFC 3156, S/MIME) --------------------------------
reseed(251);
for (const [tag, eol] of Object.entries(EOLS)) {
  emit(`encrypted-pgp-${tag}.eml`, "encrypted", render({
    headers: topHeaders("...", [["Content-Type", "multipart/encrypted;\n protocol=\"application/pgp-encrypted\";\n boundary=\"enc-b1\""]]),
    boundary: "enc-b1",
    preamble: "This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)",
    parts: encryptedParts(400 + tag.length, 900),
  }, eol));
}
emit("encrypted-pgp-autocrypt.eml", "encrypted", render({
  headers: topHeaders("...", [["Autocrypt", `addr=alice@example.org; keydata=\n ${wrap(randBytes(300, 410).toString("base64"), 72).replace(/\n/g, "\n ")}`], ["Content-Type", "multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"ac\""]]),
  boundary: "ac",
  parts: encryptedParts(411, 2000),
}));
emit("encrypted-inside-mixed.eml", "encrypted", render({
  headers: topHeaders("encrypted message re-wrapped by a list", [["Content-Type", "multipart/mixed; boundary=wrapper"]]),
  boundary: "wrapper",
  parts: [
    { headers: [["Content-Type", "multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=inner-enc"]], boundary: "inner-enc", parts: encryptedParts(420, 500) },
    textPart("-- \nsent through a list\n"),
  ],
}));
emit("encrypted-smime.eml", "encrypted", render({
  headers: topHeaders("S/MIME enveloped", [["Content-Type", "application/pkcs7-mime; smime-type=enveloped-data; name=\"smime.p7m\""], ["Content-Transfer-Encoding", "base64"], ["Content-Disposition", "attachment; filename=\"smime.p7m\""]]),
  body: b64(randBytes(3000, 430), 64) + "\n",
}));
emit("encrypted-inline-pgp.eml", "encrypted", render({
  headers: topHeaders("inline PGP, no MIME structure", [["Content-Type", "text/plain; charset=us-ascii"]]),
  body: armored("MESSAGE", 700, 440),
}, "\n"));

// ---- message/rfc822 -------------------------------------------------------
reseed(301);
const innerSimple = (subj, eol) => render({ headers: topHeaders(subj, [["Content-Type", "text/plain; charset=utf-8"]]), body: paragraph() + "\n" }, eol);
const innerMulti = (subj, eol, seed) => render({
  headers: topHeaders(subj, [["Content-Type", `multipart/mixed; boundary="inner-${seed}"`]]), boundary: `inner-${seed}`,
  parts: [textPart(paragraph()), attachment(randBytes(300, seed), "inner.bin")],
}, eol);
const rfc822 = (bytes, extra = []) => ({ headers: [["Content-Type", "message/rfc822"], ...extra], body: bytes });
for (const [tag, eol] of Object.entries(EOLS)) {
  emit(`rfc822-forward-${tag}.eml`, "rfc822", render({
    headers: topHeaders("Fwd: original", [["Content-Type", "multipart/mixed; boundary=fwd"]]), boundary: "fwd",
    parts: [textPart("See the forwarded message.\n"), rfc822(innerSimple("original", eol), [["Content-Disposition", "attachment; filename=\"original.eml\""]])],
  }, eol));
  emit(`rfc822-forward-multipart-${tag}.eml`, "rfc822", render({
    headers: topHeaders("Fwd: multipart original", [["Content-Type", "multipart/mixed; boundary=fwd2"]]), boundary: "fwd2",
    parts: [textPart("Forwarding a multipart message.\n"), rfc822(innerMulti("multipart original", eol, 340 + tag.length))],
  }, eol));
}
{
  // nested twice and three times
  let inner = innerMulti("level 0", "\r\n", 350);
  for (let lvl = 1; lvl <= 3; lvl++) {
    const b = `fwd-level-${lvl}`;
    inner = render({ headers: topHeaders(`Fwd: level ${lvl}`, [["Content-Type", `multipart/mixed; boundary="${b}"`]]), boundary: b, parts: [textPart(`wrapper ${lvl}\n`), rfc822(inner)] });
    if (lvl >= 2) emit(`rfc822-nested-${lvl}x.eml`, "rfc822", inner);
  }
}
// message/rfc822 as the whole body, and one that reuses the outer boundary name
emit("rfc822-top-level.eml", "rfc822", render({ headers: topHeaders("body is message/rfc822", [["Content-Type", "message/rfc822"]]), body: innerMulti("the only content", "\r\n", 360) }));
emit("rfc822-same-boundary-inside.eml", "rfc822", render({
  headers: topHeaders("inner message uses the same boundary as the outer one", [["Content-Type", "multipart/mixed; boundary=same"]]), boundary: "same",
  parts: [textPart("outer text\n"), rfc822(render({ headers: topHeaders("inner", [["Content-Type", "multipart/alternative; boundary=same-inner"]]), boundary: "same-inner", parts: [textPart("a\n"), textPart("b\n")] }))],
}));
emit("rfc822-base64-encoded.eml", "rfc822", render({
  headers: topHeaders("message/rfc822 with base64 CTE (illegal but seen)", [["Content-Type", "multipart/mixed; boundary=b64msg"]]), boundary: "b64msg",
  parts: [textPart("x\n"), { headers: [["Content-Type", "message/rfc822"], ["Content-Transfer-Encoding", "base64"]], body: b64(innerSimple("encoded inner", "\r\n")) + "\n" }],
}));
emit("rfc822-lf-inside-crlf.eml", "rfc822", render({
  headers: topHeaders("CRLF outer, bare-LF attached message", [["Content-Type", "multipart/mixed; boundary=mixeol"]]), boundary: "mixeol",
  parts: [textPart("outer uses CRLF\n"), rfc822(innerMulti("inner uses LF", "\n", 370))],
}, "\r\n"));
// delivery status notification: multipart/report with message/delivery-status and text/rfc822-headers
emit("rfc822-dsn-report.eml", "rfc822", render({
  headers: topHeaders("Undelivered Mail Returned to Sender", [["Content-Type", "multipart/report; report-type=delivery-status;\n\tboundary=\"dsn.1234\""]]), boundary: "dsn.1234",
  preamble: "This is a MIME-encapsulated message.",
  parts: [
    textPart("I'm sorry to have to inform you that your message could not\nbe delivered to one or more recipients.\n"),
    { headers: [["Content-Description", "Delivery report"], ["Content-Type", "message/delivery-status"]], body: "Reporting-MTA: dns; mail.example.net\nArrival-Date: Mon,  2 Jan 2023 10:04:05 +0000 (UTC)\n\nFinal-Recipient: rfc822; nobody@example.net\nOriginal-Recipient: rfc822;nobody@example.net\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 User unknown\n" },
    { headers: [["Content-Description", "Undelivered Message Headers"], ["Content-Type", "text/rfc822-headers"]], body: headerBlock(topHeaders("the bounced one"), "\r\n") },
  ],
}));
emit("rfc822-global-utf8.eml", "rfc822", render({
  headers: topHeaders("message/global inside", [["Content-Type", "multipart/mixed; boundary=glob"]]), boundary: "glob",
  parts: [textPart("see attached\n"), { headers: [["Content-Type", "message/global"]], body: render({ headers: [["From", "Jürgen <jürgen@bücher.example>"], ["Subject", "Grüße aus Köln ☕"], ["Content-Type", "text/plain; charset=utf-8"], ["Content-Transfer-Encoding", "8bit"]], body: "Schöne Grüße! 日本語 ✓\n" }) }],
}));

// ---- 8bit bodies -----------------------------------------------------------
reseed(401);
for (const [tag, eol] of Object.entries(EOLS)) {
  emit(`8bit-utf8-${tag}.eml`, "8bit", render({ headers: topHeaders("8bit UTF-8 body", [["Content-Type", "text/plain; charset=utf-8"], ["Content-Transfer-Encoding", "8bit"]]), body: "Grüße, naïve café, Ελληνικά, русский, 日本語, emoji 🎉🔐, math ∑∞≠.\n" + paragraph() + "\n" }, eol));
  emit(`8bit-latin1-${tag}.eml`, "8bit", render({ headers: topHeaders("8bit latin-1 body", [["Content-Type", "text/plain; charset=ISO-8859-1"], ["Content-Transfer-Encoding", "8bit"]]), body: eolBuf(latin1("Fran\u00e7ais: \u00e0 bient\u00f4t, \u00e9t\u00e9, \u00ff\u00fe\u00fd, \u00a9 \u00ae \u00b1 \u00b5.\n"), eol) }, eol));
}
emit("8bit-raw-utf8-headers.eml", "8bit", render({
  headers: [["From", "Jörg Müller <jörg@example.de>"], ["To", "Zoë <zoe@example.org>"], ["Subject", "Raw UTF-8 in headers (SMTPUTF8 / sloppy MUA) — ✓"], ["Date", DATES[0]], ["MIME-Version", "1.0"], ["Content-Type", "text/plain; charset=utf-8"], ["Content-Transfer-Encoding", "8bit"]],
  body: "Body also 8bit: ÄÖÜ äöü ß\n",
}));
emit("8bit-in-multipart.eml", "8bit", render({
  headers: topHeaders("8bit parts in multipart", [["Content-Type", "multipart/alternative; boundary=eight"]]), boundary: "eight",
  parts: [
    { headers: [["Content-Type", "text/plain; charset=utf-8"], ["Content-Transfer-Encoding", "8bit"]], body: "Ünïcödé text part\n" },
    { headers: [["Content-Type", "text/html; charset=utf-8"], ["Content-Transfer-Encoding", "8bit"]], body: "<p>Ünïcödé <b>html</b> part</p>\n" },
  ],
}));
emit("8bit-without-cte.eml", "8bit", cat(render({ headers: [["From", "a@example.org"], ["Subject", "8bit bytes, no MIME headers at all"]], body: "UTF-8: café — " }, "\n"), latin1("latin-1: caf\u00e9\n")));
emit("8bit-high-bytes-all.eml", "8bit", cat(render({ headers: topHeaders("every byte 0x80-0xFF in an 8bit text body", [["Content-Type", "text/plain; charset=windows-1252"], ["Content-Transfer-Encoding", "8bit"]]), body: "" }, "\r\n"), (() => { const b = []; for (let i = 0x80; i <= 0xff; i++) { b.push(i); if ((i & 15) === 15) b.push(13, 10); } return Buffer.from(b); })()));

// ---- binary bodies -------------------------------------------------------
reseed(451);
const allBytes = (() => { const b = Buffer.alloc(256 * 4); for (let i = 0; i < b.length; i++) b[i] = i & 0xff; return b; })();
emit("binary-all-bytes-top.eml", "binary", render({ headers: topHeaders("top-level binary body, bytes 0-255 x4", [["Content-Type", "application/octet-stream"], ["Content-Transfer-Encoding", "binary"]]), body: allBytes }));
for (const [tag, eol] of Object.entries(EOLS)) {
  emit(`binary-attachment-${tag}.eml`, "binary", render({
    headers: topHeaders("binary attachment in multipart", [["Content-Type", "multipart/mixed; boundary=\"bin-boundary\""]]), boundary: "bin-boundary",
    parts: [textPart("the attachment is raw binary\n"), { headers: [["Content-Type", "application/octet-stream; name=raw.bin"], ["Content-Transfer-Encoding", "binary"]], body: cat(allBytes, randBytes(2000, 460 + tag.length)) }],
  }, eol));
}
emit("binary-nul-and-fake-delimiters.eml", "binary", render({
  headers: topHeaders("binary body containing NULs, CR, LF and almost-boundaries", [["Content-Type", "multipart/mixed; boundary=\"XYZ\""]]), boundary: "XYZ",
  parts: [{ headers: [["Content-Type", "application/octet-stream"], ["Content-Transfer-Encoding", "binary"]], body: cat(Buffer.alloc(64), "\r\n--XY\r\n", "\n--XYZW\n", "x--XYZ\r\n", "\r\r\n\n\r", Buffer.alloc(17, 0xff), "\0\0--XYZ--\0", randBytes(500, 470)) }, textPart("after\n")],
}));
emit("binary-no-cte-header.eml", "binary", render({ headers: [["From", "x@example.org"], ["Subject", "binary bytes without any MIME declaration"]], body: randBytes(3000, 471) }, "\n"));
emit("binary-image-jpeg.eml", "binary", render({
  headers: topHeaders("binary image part", [["Content-Type", "multipart/related; boundary=r"]]), boundary: "r",
  parts: [{ headers: [["Content-Type", "text/html"]], body: "<img src=\"cid:i\">\n" }, { headers: [["Content-Type", "image/jpeg"], ["Content-ID", "<i>"], ["Content-Transfer-Encoding", "binary"]], body: cat(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0]), randBytes(4000, 472), Buffer.from([0xff, 0xd9])) }],
}));

// ---- line endings ---------------------------------------------------------
reseed(501);
const simple = (subj, eol, body = paragraph() + "\n") => render({ headers: topHeaders(subj, [["Content-Type", "text/plain; charset=us-ascii"]]), body }, eol);
emit("eol-crlf-simple.eml", "line-endings", simple("CRLF everywhere", "\r\n"));
emit("eol-lf-simple.eml", "line-endings", simple("bare LF everywhere", "\n"));
emit("eol-crlf-no-final-newline.eml", "line-endings", simple("CRLF, no final newline", "\r\n", "last line has no line ending"));
emit("eol-lf-no-final-newline.eml", "line-endings", simple("LF, no final newline", "\n", "last line has no line ending"));
emit("eol-mixed-headers-crlf-body-lf.eml", "line-endings", cat(headerBlock(topHeaders("headers CRLF, body LF", [["Content-Type", "text/plain"]]), "\r\n"), "\r\n", paragraph().replace(/$/, "\n")));
emit("eol-mixed-headers-lf-body-crlf.eml", "line-endings", cat(headerBlock(topHeaders("headers LF, body CRLF", [["Content-Type", "text/plain"]]), "\n"), "\n", eolize(paragraph() + "\n", "\r\n")));
{
  // alternate endings line by line, in a multipart
  const raw = render({
    headers: topHeaders("alternating CRLF/LF per line in a multipart", [["Content-Type", "multipart/mixed; boundary=alt-eol"]]), boundary: "alt-eol",
    parts: [textPart(paragraph(6)), attachment(randBytes(600, 510), "x.bin"), textPart("end\n")],
  }, "\n");
  const out = [];
  let n = 0;
  for (const c of raw) { if (c === 0x0a && n++ % 2 === 0) out.push(0x0d); out.push(c); }
  emit("eol-mixed-alternating-multipart.eml", "line-endings", Buffer.from(out));
}
emit("eol-mixed-boundary-lines.eml", "line-endings", B("From: a@example.org\r\nSubject: boundary lines end differently from body lines\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=q\r\n\r\n--q\nContent-Type: text/plain\r\n\nbody line LF\r\nbody line CRLF\n--q\r\nContent-Type: text/plain\n\r\nsecond\r\n--q--\n"));
emit("eol-bare-cr.eml", "line-endings", B("From: a@example.org\rSubject: classic Mac bare CR line endings\rContent-Type: text/plain\r\rline one\rline two\r"));
emit("eol-crcrlf.eml", "line-endings", B("From: a@example.org\r\r\nSubject: CR CR LF endings (double-converted)\r\r\nContent-Type: text/plain\r\r\n\r\r\nline one\r\r\nline two\r\r\n"));

// ---- missing final boundary -----------------------------------------------
reseed(601);
for (const [tag, eol] of Object.entries(EOLS)) {
  emit(`missing-close-outer-${tag}.eml`, "missing-final-boundary", render({ headers: topHeaders("no closing delimiter", [["Content-Type", "multipart/mixed; boundary=open"]]), boundary: "open", close: false, parts: [textPart(paragraph()), attachment(randBytes(500, 610), "a.bin")] }, eol));
}
emit("missing-close-inner.eml", "missing-final-boundary", render({
  headers: topHeaders("inner multipart not closed, outer closed", [["Content-Type", "multipart/mixed; boundary=outer"]]), boundary: "outer",
  parts: [{ headers: [["Content-Type", "multipart/alternative; boundary=inner"]], boundary: "inner", close: false, parts: [textPart("a\n"), htmlPart("b")] }, textPart("c\n")],
}));
emit("missing-close-both.eml", "missing-final-boundary", render({
  headers: topHeaders("neither inner nor outer closed", [["Content-Type", "multipart/mixed; boundary=outer"]]), boundary: "outer", close: false,
  parts: [textPart("a\n"), { headers: [["Content-Type", "multipart/alternative; boundary=inner"]], boundary: "inner", close: false, parts: [textPart("b\n"), textPart("c\n")] }],
}));
emit("missing-close-no-eol.eml", "missing-final-boundary", cat(render({ headers: topHeaders("closing delimiter without trailing newline", [["Content-Type", "multipart/mixed; boundary=z"]]), boundary: "z", close: false, parts: [textPart("body\n")] }), "--z--"));
emit("missing-close-truncated-base64.eml", "missing-final-boundary", render({ headers: topHeaders("ends in the middle of a base64 attachment", [["Content-Type", "multipart/mixed; boundary=trunc"]]), boundary: "trunc", close: false, parts: [textPart("hi\n"), { headers: [["Content-Type", "application/pdf"], ["Content-Transfer-Encoding", "base64"]], body: b64(randBytes(900, 620)).slice(0, 700) }] }).subarray(0, -2));
emit("missing-close-half-delimiter.eml", "missing-final-boundary", cat(render({ headers: topHeaders("stops inside the closing delimiter", [["Content-Type", "multipart/mixed; boundary=halfway"]]), boundary: "halfway", close: false, parts: [textPart("body\n")] }), "--half"));

// ---- preamble and epilogue ------------------------------------------------
reseed(651);
for (const [tag, eol] of Object.entries(EOLS)) {
  emit(`preamble-epilogue-${tag}.eml`, "preamble-epilogue", render({
    headers: topHeaders("preamble and epilogue", [["Content-Type", "multipart/mixed; boundary=pe"]]), boundary: "pe",
    preamble: "This is the preamble. It is to be ignored, though it\nis a handy place for composition agents to include an\nexplanatory note to non-MIME conformant readers.\n",
    epilogue: "This is the epilogue. It is also to be ignored.\n",
    parts: [textPart("part 1\n"), textPart("part 2\n")],
  }, eol));
}
emit("preamble-looks-like-headers.eml", "preamble-epilogue", render({
  headers: topHeaders("preamble that looks like headers", [["Content-Type", "multipart/mixed; boundary=ph"]]), boundary: "ph",
  preamble: "Content-Type: text/html\nX-Not-A-Header: really\n\n--ph-not-really\n-- ph\n",
  parts: [textPart("real part\n")],
}));
emit("epilogue-with-boundaries.eml", "preamble-epilogue", render({
  headers: topHeaders("epilogue containing more delimiter lines", [["Content-Type", "multipart/mixed; boundary=ep"]]), boundary: "ep",
  parts: [textPart("one\n")],
  epilogue: "--ep\nContent-Type: text/plain\n\nthis part is after the close delimiter\n--ep--\n\ntrailing junk\n",
}));
emit("epilogue-no-eol-after-close.eml", "preamble-epilogue", cat(render({ headers: topHeaders("close delimiter then epilogue with no newline", [["Content-Type", "multipart/mixed; boundary=ee"]]), boundary: "ee", close: false, parts: [textPart("one\n")] }), "--ee--epilogue glued to the delimiter"));
emit("preamble-empty-lines.eml", "preamble-epilogue", render({
  headers: topHeaders("blank preamble lines and blank epilogue lines", [["Content-Type", "multipart/alternative; boundary=bl"]]), boundary: "bl",
  preamble: "\n\n", epilogue: "\n\n\n", parts: [textPart("x\n"), htmlPart("y")],
}));
emit("preamble-epilogue-nested.eml", "preamble-epilogue", render({
  headers: topHeaders("preamble/epilogue at two levels", [["Content-Type", "multipart/mixed; boundary=o"]]), boundary: "o",
  preamble: "outer preamble", epilogue: "outer epilogue\n",
  parts: [{ headers: [["Content-Type", "multipart/alternative; boundary=i"]], boundary: "i", preamble: "inner preamble", epilogue: "inner epilogue", parts: [textPart("a\n"), textPart("b\n")] }],
}));

// ---- transport padding -------------------------------------------------------
reseed(701);
emit("padding-spaces.eml", "transport-padding", render({ headers: topHeaders("spaces after delimiter lines", [["Content-Type", "multipart/mixed; boundary=pad"]]), boundary: "pad", pad: "   ", closePad: "  ", parts: [textPart("a\n"), textPart("b\n")] }));
emit("padding-tabs.eml", "transport-padding", render({ headers: topHeaders("tabs after delimiter lines", [["Content-Type", "multipart/mixed; boundary=pad"]]), boundary: "pad", pad: "\t", closePad: "\t \t", parts: [textPart("a\n"), textPart("b\n")] }, "\n"));
emit("padding-mixed-nested.eml", "transport-padding", render({
  headers: topHeaders("padding on nested delimiters", [["Content-Type", "multipart/mixed; boundary=p1"]]), boundary: "p1", pad: " \t ",
  parts: [{ headers: [["Content-Type", "multipart/alternative; boundary=p2"]], boundary: "p2", pad: "\t\t", closePad: " ", parts: [textPart("a\n"), textPart("b\n")] }, textPart("c\n")],
}));
emit("padding-junk-after-delimiter.eml", "transport-padding", B("From: a@example.org\r\nSubject: non-whitespace after delimiter (not a delimiter per RFC 2046)\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=j\r\n\r\n--j\r\nContent-Type: text/plain\r\n\r\nfirst\r\n--j junk\r\nstill first part?\r\n--j\r\nContent-Type: text/plain\r\n\r\nsecond\r\n--j-- trailing words\r\n"));

// ---- long lines ------------------------------------------------------------
reseed(751);
{
  const long = (n) => { let s = ""; while (s.length < n) s += sentence() + " "; return s.slice(0, n); };
  emit("long-line-body-1500.eml", "long-lines", simple("1500-byte body line", "\r\n", long(1500) + "\n" + long(999) + "\n" + long(998) + "\n"));
  emit("long-line-body-100k.eml", "long-lines", simple("100 KB body line, LF", "\n", long(100000) + "\nshort\n"));
  emit("long-line-header-unfolded.eml", "long-lines", render({ headers: [["From", "a@example.org"], ["Subject", long(5000)], ["X-Long", long(1200)], ["Content-Type", "text/plain"]], body: "body\n" }));
  emit("long-line-base64-unwrapped.eml", "long-lines", render({ headers: topHeaders("base64 attachment on one 40 KB line", [["Content-Type", "multipart/mixed; boundary=ll"]]), boundary: "ll", parts: [textPart("x\n"), attachment(randBytes(30000, 760), "one-line.bin", "application/octet-stream", 1e9)] }));
  emit("long-line-html-8bit.eml", "long-lines", render({ headers: topHeaders("long 8bit HTML line in multipart", [["Content-Type", "multipart/alternative; boundary=lh"]]), boundary: "lh", parts: [textPart("short\n"), { headers: [["Content-Type", "text/html; charset=utf-8"], ["Content-Transfer-Encoding", "8bit"]], body: "<div>" + "<span>Grüße ✓</span>".repeat(300) + "</div>\n" }] }));
  emit("long-line-references.eml", "long-lines", render({ headers: topHeaders("very long References header, folded", [["References", Array.from({ length: 120 }, (_, i) => `<ref.${i}.${randId(12)}@example.org>`).join("\n ")], ["In-Reply-To", "<ref.119@example.org>"], ["Content-Type", "text/plain"]]), body: "reply\n" }));
}

// ---- duplicate headers -----------------------------------------------------
reseed(801);
emit("dup-two-subjects.eml", "duplicate-headers", render({ headers: [["From", "a@example.org"], ["Subject", "first subject"], ["To", "b@example.org"], ["Subject", "second subject"], ["Date", DATES[1]], ["Content-Type", "text/plain"]], body: "two Subject headers\n" }));
emit("dup-many-received.eml", "duplicate-headers", render({ headers: [...Array.from({ length: 40 }, (_, i) => ["Received", `from hop${i}.example.net (hop${i}.example.net [198.51.100.${i + 1}])\n\tby hop${i + 1}.example.net (Postfix) with ESMTP id ${randId(10)};\n\t${pick(DATES)}`]), ...topHeaders("40 Received headers", [["Content-Type", "text/plain"]])], body: "many hops\n" }));
emit("dup-two-from-two-date.eml", "duplicate-headers", render({ headers: [["From", "a@example.org"], ["From", "b@example.org"], ["Date", DATES[0]], ["Date", DATES[2]], ["Subject", "duplicate From and Date"], ["Content-Type", "text/plain"]], body: "x\n" }, "\n"));
emit("dup-content-type-conflict.eml", "duplicate-headers", render({
  headers: topHeaders("two Content-Type headers with different boundaries", [["Content-Type", "multipart/mixed; boundary=first"], ["Content-Type", "multipart/mixed; boundary=second"]]), boundary: "second",
  parts: [textPart("split on second\n")],
  epilogue: "--first\nContent-Type: text/plain\n\nsplit on first\n--first--\n",
}));
emit("dup-mime-version-and-cte.eml", "duplicate-headers", render({ headers: [["MIME-Version", "1.0"], ["MIME-Version", "1.0 (produced by something)"], ["From", "a@example.org"], ["Subject", "dup MIME-Version and CTE"], ["Content-Type", "text/plain; charset=utf-8"], ["Content-Transfer-Encoding", "base64"], ["Content-Transfer-Encoding", "quoted-printable"]], body: qpEncode(B("Grüße=ok\n")) }));
emit("dup-headers-in-part.eml", "duplicate-headers", render({
  headers: topHeaders("duplicate headers inside a part", [["Content-Type", "multipart/mixed; boundary=dp"]]), boundary: "dp",
  parts: [{ headers: [["Content-Type", "text/plain"], ["Content-Type", "text/html"], ["Content-Disposition", "inline"], ["Content-Disposition", "attachment; filename=a.txt"]], body: "which type?\n" }],
}));

// ---- folded headers --------------------------------------------------------
reseed(851);
emit("fold-tabs-and-spaces.eml", "folded-headers", render({ headers: [["From", "Alice\n\t<alice@example.org>"], ["To", "bob@example.org,\n carol@example.org,\n\t dave@example.org"], ["Subject", "This subject is\n folded with a space\n\tand then a tab"], ["Content-Type", "text/plain;\n\tcharset=\"utf-8\";\n format=flowed"], ["Date", DATES[3]]], body: "folded\n" }));
emit("fold-lf.eml", "folded-headers", render({ headers: [["From", "a@example.org"], ["Subject", "folded\n  with\n\t\tbare LF"], ["Content-Type", "multipart/mixed;\n boundary=\n \"folded-boundary\""]], boundary: "folded-boundary", parts: [textPart("x\n")] }, "\n"));
emit("fold-whitespace-only-continuation.eml", "folded-headers", render({ headers: [["From", "a@example.org"], ["Subject", "continuation line that is only whitespace\n \n\tfollows"], ["X-Empty", ""], ["X-Spaces", "   "], ["Content-Type", "text/plain"]], body: "x\n" }));
emit("fold-encoded-words.eml", "folded-headers", render({ headers: [["From", `${ewQ("utf-8", B("Jürgen Groß"))}\n <j@example.de>`], ["Subject", `${ewB("utf-8", B("Ein langer Betreff mit Umlauten äöü "))}\n ${ewB("utf-8", B("und noch mehr Text ✓"))}`], ["Content-Type", "text/plain"]], body: "x\n" }));
emit("fold-first-line-continuation.eml", "folded-headers", B(" continuation before any header\r\nFrom: a@example.org\r\nSubject: message starts with a folded line\r\n\r\nbody\r\n"));
emit("fold-deep.eml", "folded-headers", render({ headers: [["From", "a@example.org"], ["X-Deep", Array.from({ length: 200 }, (_, i) => `w${i}`).join("\n\t")], ["Subject", "200 continuation lines"], ["Content-Type", "text/plain"]], body: "x\n" }));
emit("fold-no-colon-space.eml", "folded-headers", B("From:a@example.org\r\nSubject:no space after colon\r\nX-Tab-Before-Colon\t: odd\r\nX-Space-Before-Colon : odder\r\nContent-Type:text/plain\r\n\r\nbody\r\n"));

// ---- non-UTF-8 charsets ----------------------------------------------------
reseed(901);
const charsetMsg = (subjectBytes, charset, bodyBytes, eol = "\r\n", cte = "8bit") => cat(
  headerBlock([["From", "sender@example.org"], ["To", "rcpt@example.org"], ["Subject", subjectBytes], ["Date", pick(DATES)], ["MIME-Version", "1.0"], ["Content-Type", `text/plain; charset=${charset}`], ["Content-Transfer-Encoding", cte]], eol),
  eol, eolBuf(bodyBytes, eol));
emit("charset-iso-8859-1-raw.eml", "charsets", charsetMsg(latin1("R\u00e9sum\u00e9 du caf\u00e9 \u2014 raw latin-1 header".replace("\u2014", "-")), "ISO-8859-1", latin1("Voil\u00e0 le r\u00e9sum\u00e9. \u00c7a co\u00fbte 5\u00a0\u00a3.\nDer Stra\u00dfenverkehr in K\u00f6ln.\n")));
emit("charset-iso-8859-1-lf.eml", "charsets", charsetMsg(latin1("Gr\u00fc\u00dfe"), "iso-8859-1", latin1("\u00c4rger \u00fcber \u00d6l.\n"), "\n"));
emit("charset-windows-1252-raw.eml", "charsets", charsetMsg(cp1252("“Smart quotes” – and € in a raw header"), "windows-1252", cp1252("He said “hello” — it cost €5… ‘ok’ • ™\n")));
emit("charset-windows-1252-declared-latin1.eml", "charsets", charsetMsg(cp1252("mislabelled “quotes”"), "iso-8859-1", cp1252("Declared latin-1, actually windows-1252: “x” – €\n")));
emit("charset-koi8-r-raw.eml", "charsets", charsetMsg(koi8r("Привет, мир"), "KOI8-R", koi8r("Съешь же ещё этих мягких французских булок, да выпей чаю.\nЁлка.\n")));
emit("charset-koi8-r-lf.eml", "charsets", charsetMsg(koi8r("Отчёт"), "koi8-r", koi8r("Тест кодировки КОИ-8.\n"), "\n"));
emit("charset-iso-2022-jp.eml", "charsets", charsetMsg(iso2022jp("件名、こんにちは"), "ISO-2022-JP", iso2022jp("こんにちは。日本語のメールです。\nカタカナ「テスト」。\n"), "\r\n", "7bit"));
emit("charset-iso-2022-jp-encoded-subject.eml", "charsets", charsetMsg(B(ewB("ISO-2022-JP", iso2022jp("こんにちは日本語"))), "iso-2022-jp", iso2022jp("ありがとう。\n"), "\r\n", "7bit"));
emit("charset-shift-jis.eml", "charsets", charsetMsg(shiftJis("日本語テスト"), "Shift_JIS", shiftJis("シフトJISの本文です。\n")));
emit("charset-euc-jp.eml", "charsets", charsetMsg(eucJp("日本語"), "EUC-JP", eucJp("EUC-JPのほんぶん。\n")));
emit("charset-gb2312.eml", "charsets", charsetMsg(cat(GB2312_NIHAO, " ", GB2312_ZHONGWEN), "GB2312", cat(GB2312_ZHONGWEN, " GB2312 body ", GB2312_NIHAO, "\n")));
emit("charset-big5.eml", "charsets", charsetMsg(BIG5_ZHONGWEN, "Big5", cat(BIG5_ZHONGWEN, " Big5 body\n")));
emit("charset-utf-16le-bom.eml", "charsets", charsetMsg(B("UTF-16 body with BOM"), "utf-16", cat(Buffer.from([0xff, 0xfe]), Buffer.from("UTF-16LE text, äöü ✓\r\n", "utf16le")), "\r\n", "binary"));
emit("charset-multipart-mixed-charsets.eml", "charsets", render({
  headers: topHeaders("one part per charset", [["Content-Type", "multipart/mixed; boundary=cs"]]), boundary: "cs",
  parts: [
    { headers: [["Content-Type", "text/plain; charset=iso-8859-1"], ["Content-Transfer-Encoding", "8bit"]], body: latin1("Caf\u00e9\n") },
    { headers: [["Content-Type", "text/plain; charset=windows-1252"], ["Content-Transfer-Encoding", "8bit"]], body: cp1252("“€”\n") },
    { headers: [["Content-Type", "text/plain; charset=koi8-r"], ["Content-Transfer-Encoding", "8bit"]], body: koi8r("Да\n") },
    { headers: [["Content-Type", "text/plain; charset=iso-2022-jp"], ["Content-Transfer-Encoding", "7bit"]], body: iso2022jp("はい\n") },
    { headers: [["Content-Type", "text/plain; charset=unknown-8bit"], ["Content-Transfer-Encoding", "8bit"]], body: Buffer.from([0x80, 0x81, 0xfe, 0xff, 0x0a]) },
  ],
}));
emit("charset-invalid-utf8.eml", "charsets", charsetMsg(Buffer.from([0x62, 0x61, 0x64, 0x20, 0xc3, 0x28, 0x20, 0xe2, 0x82, 0x20, 0xf0, 0x9f]), "utf-8", Buffer.from([0x6f, 0x76, 0x65, 0x72, 0x6c, 0x6f, 0x6e, 0x67, 0x20, 0xc0, 0xaf, 0x20, 0xed, 0xa0, 0x80, 0x20, 0xff, 0x0a])));

// ---- RFC 2047 encoded words -----------------------------------------------
reseed(951);
emit("rfc2047-b-and-q.eml", "rfc2047", render({ headers: [["From", `${ewB("UTF-8", B("Zoë Ünïcødé"))} <zoe@example.org>`], ["To", `${ewQ("ISO-8859-1", latin1("Andr\u00e9 M\u00fcller"))} <andre@example.org>, ${ewQ("utf-8", B("李小龍"))} <li@example.cn>`], ["Subject", `${ewQ("windows-1252", cp1252("“Quoted” – printable"))} and ${ewB("KOI8-R", koi8r("Привет"))}`], ["Content-Type", "text/plain"]], body: "x\n" }));
emit("rfc2047-adjacent-split-utf8.eml", "rfc2047", (() => { const bytes = B("日本語のテキスト"); return render({ headers: [["From", "a@example.org"], ["Subject", `${ewB("UTF-8", bytes.subarray(0, 4))}\n ${ewB("UTF-8", bytes.subarray(4, 11))}\n ${ewB("UTF-8", bytes.subarray(11))}`], ["Content-Type", "text/plain"]], body: "multi-byte char split across adjacent encoded words\n" }); })());
emit("rfc2047-malformed.eml", "rfc2047", render({ headers: [["From", "=?utf-8?Q?broken <a@example.org>"], ["Subject", "=?utf-8?B?not base64!!?= =?unknown-charset?Q?abc?= =?utf-8?X?bad_encoding?= =?utf-8?Q?=ZZ?= =??Q?empty_charset?="], ["X-Inside-Word", "foo=?utf-8?Q?bar?=baz"], ["Content-Type", "text/plain"]], body: "x\n" }));
emit("rfc2047-language-and-case.eml", "rfc2047", render({ headers: [["From", "a@example.org"], ["Subject", `=?utf-8*en?q?Hello_World?= ${ewB("Utf-8", B("Mixed case charset"))} =?ISO-8859-15?b?pA==?=`], ["Content-Type", "text/plain"]], body: "x\n" }));
emit("rfc2047-in-params.eml", "rfc2047", render({
  headers: topHeaders("encoded word inside a parameter (non-standard, common)", [["Content-Type", "multipart/mixed; boundary=ep"]]), boundary: "ep",
  parts: [textPart("x\n"), { headers: [["Content-Type", `application/pdf; name="${ewB("UTF-8", B("Rechnung März.pdf"))}"`], ["Content-Disposition", `attachment; filename="${ewQ("iso-8859-1", latin1("Rechnung M\u00e4rz.pdf"))}"`], ["Content-Transfer-Encoding", "base64"]], body: b64(randBytes(200, 960)) + "\n" }],
}));
emit("rfc2047-long-subject-folded.eml", "rfc2047", render({ headers: [["From", "a@example.org"], ["Subject", Array.from({ length: 8 }, (_, i) => ewB("utf-8", B(`Teil ${i}: Grüße aus München — ✓ `))).join("\n\t")], ["Content-Type", "text/plain"]], body: "x\n" }, "\n"));

// ---- RFC 2231 parameters --------------------------------------------------
reseed(1001);
const att2231 = (disp, ctype, seed) => ({ headers: [["Content-Type", ctype], ["Content-Disposition", disp], ["Content-Transfer-Encoding", "base64"]], body: b64(randBytes(150, seed)) + "\n" });
const msg2231 = (subj, part, eol = "\r\n") => render({ headers: topHeaders(subj, [["Content-Type", "multipart/mixed; boundary=p2231"]]), boundary: "p2231", parts: [textPart("see attachment\n"), part] }, eol);
emit("rfc2231-charset-lang.eml", "rfc2231", msg2231("RFC 2231 charset and language", att2231(`attachment; filename*=UTF-8'de'${pct(B("Größe & Maße.txt"))}`, `text/plain; name*=utf-8''${pct(B("Größe & Maße.txt"))}`, 1010)));
emit("rfc2231-continuations.eml", "rfc2231", msg2231("RFC 2231 continuations", att2231(`attachment;\n filename*0*=UTF-8''${pct(B("Ein sehr langer Dateiname mit "))};\n filename*1*=${pct(B("Umlauten äöü und "))};\n filename*2="plain ascii tail.pdf"`, "application/pdf", 1011)));
emit("rfc2231-latin1.eml", "rfc2231", msg2231("RFC 2231 ISO-8859-1", att2231(`attachment; filename*=iso-8859-1'fr'${pct(latin1("r\u00e9sum\u00e9.doc"))}`, "application/msword", 1012), "\n"));
emit("rfc2231-out-of-order-and-both.eml", "rfc2231", msg2231("RFC 2231 out of order, plus plain filename", att2231("attachment; filename=\"fallback.txt\";\n filename*1=\"second.txt\"; filename*0=\"first-\"", "text/plain", 1013)));
emit("rfc2231-boundary-continuation.eml", "rfc2231", render({ headers: topHeaders("boundary given with RFC 2231 continuation", [["Content-Type", "multipart/mixed;\n boundary*0=\"split-\";\n boundary*1=\"boundary\""]]), boundary: "split-boundary", parts: [textPart("does the splitter join the boundary?\n")] }));
emit("rfc2231-malformed.eml", "rfc2231", msg2231("malformed RFC 2231", att2231("attachment; filename*=UTF-8''%E2%82; filename*0*=bad'%ZZ; title*=''", "application/octet-stream", 1014)));

// ---- base64 and quoted-printable bodies -----------------------------------
reseed(1051);
const cteMsg = (subj, cte, body, ctype = "application/octet-stream", eol = "\r\n") => render({ headers: topHeaders(subj, [["Content-Type", ctype], ["Content-Transfer-Encoding", cte]]), body }, eol);
emit("b64-76.eml", "base64-qp", cteMsg("base64, 76 columns", "base64", b64(randBytes(5000, 1060)) + "\n"));
emit("b64-64-lf.eml", "base64-qp", cteMsg("base64, 64 columns, LF", "base64", b64(randBytes(5000, 1061), 64) + "\n", "image/png", "\n"));
emit("b64-whitespace-junk.eml", "base64-qp", cteMsg("base64 with spaces, tabs and junk characters", "base64", b64(randBytes(600, 1062), 60).replace(/\n/g, " \t\n").replace(/A/g, "A*") + "\n"));
emit("b64-unpadded-and-midpad.eml", "base64-qp", cteMsg("base64 missing padding, and padding mid-stream", "base64", "SGVsbG8\nV29ybGQ=V29ybGQ=\nISE\n", "text/plain"));
emit("b64-text-utf8.eml", "base64-qp", cteMsg("base64 UTF-8 text", "BASE64", b64(B("Grüße aus dem Norden ✓\n".repeat(20))) + "\n", "text/plain; charset=utf-8"));
emit("qp-soft-breaks.eml", "base64-qp", cteMsg("quoted-printable soft line breaks", "quoted-printable", qpEncode(B(("Ä long line with ümlauts and = signs " + sentence(30)).repeat(3) + "\n")), "text/plain; charset=utf-8"));
emit("qp-trailing-whitespace.eml", "base64-qp", cteMsg("quoted-printable trailing whitespace", "quoted-printable", "encoded trailing space=20\nliteral trailing spaces   \nliteral trailing tab\t\nsoft break with space after = \nend\n", "text/plain"));
emit("qp-invalid.eml", "base64-qp", cteMsg("quoted-printable with invalid escapes and long lines", "Quoted-Printable", "bad escape =G1 and =a and =\n=3\n=XY\n" + "x".repeat(2000) + "\nlowercase hex =c3=a4\n", "text/plain; charset=utf-8"));
emit("qp-multipart.eml", "base64-qp", render({
  headers: topHeaders("QP and base64 in one multipart", [["Content-Type", "multipart/alternative; boundary=qpb"]]), boundary: "qpb",
  parts: [
    { headers: [["Content-Type", "text/plain; charset=utf-8"], ["Content-Transfer-Encoding", "quoted-printable"]], body: qpEncode(B("--qpb looks like a delimiter but is QP-escaped? no: only in text\nGrüße\n")) },
    { headers: [["Content-Type", "text/html; charset=utf-8"], ["Content-Transfer-Encoding", "base64"]], body: b64(B("<p>Grüße</p>\n")) + "\n" },
  ],
}, "\n"));
emit("cte-unknown.eml", "base64-qp", cteMsg("unknown Content-Transfer-Encoding", "x-uuencode", "begin 644 a.txt\n#86)C\n`\nend\n", "text/plain"));

// ---- dedup: the same attachment bytes in several messages ----------------
// Group A: identical base64 part body (76 columns, CRLF) in four messages.
// Group B: identical binary part body (CRLF) in three messages.
// Group C: identical *decoded* bytes, different encodings (raw part bodies differ).
// Group D: identical part body, different part headers (filename/type).
const DEDUP = {
  A: { bytes: fakePng(24000, 5001), name: "photo.png", type: "image/png" },
  B: { bytes: cat(latin1("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"), randBytes(9000, 5002), "\n%%EOF\n"), name: "invoice.pdf", type: "application/pdf" },
  C: { bytes: randBytes(6000, 5003), name: "archive.zip", type: "application/zip" },
  D: { bytes: B(Array.from({ length: 200 }, (_, i) => `row ${i},${(i * 7919) % 1000},ok`).join("\r\n") + "\r\n"), name: "table.csv", type: "text/csv" },
};
const sha = (b) => createHash("sha256").update(b).digest("hex");
const dedupEntry = (group, rawBody, note) => ({ dedupGroup: group, attachment: DEDUP[group].name, decodedSha256: sha(DEDUP[group].bytes), partBodySha256: sha(rawBody), note });
{
  reseed(1101);
  const g = DEDUP.A;
  const bodyA = eolize(b64(g.bytes) + "\n", "\r\n");
  const partA = { headers: [["Content-Type", `${g.type}; name="${g.name}"`], ["Content-Disposition", `attachment; filename="${g.name}"`], ["Content-Transfer-Encoding", "base64"]], body: B(bodyA) };
  const rawA = B(bodyA);
  emit("dedup-a-1-first-attachment.eml", "dedup", render({ headers: topHeaders("photo (first attachment)", [["Content-Type", "multipart/mixed; boundary=da1"]]), boundary: "da1", parts: [textPart("Here is the photo.\n"), partA] }), dedupEntry("A", rawA, "shares photo.png (group A) as the only attachment"));
  emit("dedup-a-2-second-attachment.eml", "dedup", render({ headers: topHeaders("Re: photo", [["Content-Type", "multipart/mixed; boundary=\"da2-xyz\""]]), boundary: "da2-xyz", parts: [textPart("And again, with a PDF first.\n"), attachment(randBytes(800, 1102), "other.pdf", "application/pdf"), partA] }), dedupEntry("A", rawA, "photo.png (group A) after another attachment"));
  emit("dedup-a-3-nested.eml", "dedup", render({ headers: topHeaders("photo inside nested multipart", [["Content-Type", "multipart/mixed; boundary=da3"]]), boundary: "da3", parts: [{ headers: [["Content-Type", "multipart/alternative; boundary=da3alt"]], boundary: "da3alt", parts: [textPart("text\n"), htmlPart("html")] }, { headers: [["Content-Type", "multipart/mixed; boundary=da3inner"]], boundary: "da3inner", parts: [partA] }] }), dedupEntry("A", rawA, "photo.png (group A) two levels deep"));
  const inner = render({ headers: topHeaders("original with photo", [["Content-Type", "multipart/mixed; boundary=da4inner"]]), boundary: "da4inner", parts: [textPart("original\n"), partA] });
  emit("dedup-a-4-forwarded.eml", "dedup", render({ headers: topHeaders("Fwd: original with photo", [["Content-Type", "multipart/mixed; boundary=da4"]]), boundary: "da4", parts: [textPart("fwd\n"), rfc822(inner)] }), dedupEntry("A", rawA, "photo.png (group A) inside an attached message/rfc822"));
}
{
  reseed(1111);
  const g = DEDUP.B;
  const partB = { headers: [["Content-Type", `${g.type}; name="${g.name}"`], ["Content-Disposition", `attachment; filename="${g.name}"`], ["Content-Transfer-Encoding", "binary"]], body: g.bytes };
  for (let i = 1; i <= 3; i++) {
    emit(`dedup-b-${i}.eml`, "dedup", render({ headers: topHeaders(`invoice, copy ${i}`, [["Content-Type", `multipart/mixed; boundary="db-${i}"`]]), boundary: `db-${i}`, parts: i === 2 ? [partB, textPart("attachment first\n")] : [textPart(`copy ${i}\n${paragraph()}`), partB] }), dedupEntry("B", g.bytes, "shares invoice.pdf (group B), binary CTE, identical part body"));
  }
}
{
  reseed(1121);
  const g = DEDUP.C;
  const variants = [
    ["c-1-base64-76", "base64", eolize(b64(g.bytes, 76) + "\n", "\r\n")],
    ["c-2-base64-64", "base64", eolize(b64(g.bytes, 64) + "\n", "\r\n")],
    ["c-3-base64-76-again", "base64", eolize(b64(g.bytes, 76) + "\n", "\r\n")],
    ["c-4-binary", "binary", g.bytes],
  ];
  for (const [tag, cte, body] of variants) {
    const raw = B(body);
    emit(`dedup-${tag}.eml`, "dedup", render({ headers: topHeaders(`archive (${tag})`, [["Content-Type", `multipart/mixed; boundary="dc"`]]), boundary: "dc", parts: [textPart("archive attached\n"), { headers: [["Content-Type", `${g.type}; name="${g.name}"`], ["Content-Disposition", `attachment; filename="${g.name}"`], ["Content-Transfer-Encoding", cte]], body: raw }] }), dedupEntry("C", raw, "archive.zip (group C): same decoded bytes; raw part body identical only within the same encoding (c-1 and c-3)"));
  }
}
{
  reseed(1131);
  const g = DEDUP.D;
  const names = [["table.csv", "text/csv"], ["renamed.csv", "text/csv"], ["data.txt", "text/plain; charset=us-ascii"]];
  names.forEach(([name, type], i) => {
    emit(`dedup-d-${i + 1}.eml`, "dedup", render({ headers: topHeaders(`table as ${name}`, [["Content-Type", "multipart/mixed; boundary=dd"]]), boundary: "dd", parts: [textPart("table\n"), { headers: [["Content-Type", `${type}; name="${name}"`], ["Content-Disposition", `attachment; filename="${name}"`]], body: g.bytes }] }), dedupEntry("D", g.bytes, "table.csv (group D): identical part body under different part headers"));
  });
}

// ---- empty body, header-only, no headers --------------------------------
reseed(1151);
emit("empty-body-crlf.eml", "empty-body", B("From: a@example.org\r\nSubject: empty body\r\n\r\n"));
emit("empty-body-lf.eml", "empty-body", B("From: a@example.org\nSubject: empty body LF\n\n"));
emit("empty-body-multipart-empty-parts.eml", "empty-body", render({ headers: topHeaders("parts with empty bodies", [["Content-Type", "multipart/mixed; boundary=ep"]]), boundary: "ep", parts: [{ headers: [["Content-Type", "text/plain"]], body: "" }, { headers: [], body: "" }, B(""), { headers: [["Content-Type", "application/octet-stream"], ["Content-Transfer-Encoding", "base64"]], body: "" }] }));
emit("empty-body-multipart-declared.eml", "empty-body", B("From: a@example.org\r\nSubject: multipart with empty body\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=nothing\r\n\r\n"));
emit("headers-only-no-blank-line.eml", "headers-only", B("From: a@example.org\r\nTo: b@example.org\r\nSubject: headers only, no blank line\r\n"));
emit("headers-only-no-final-eol.eml", "headers-only", B("From: a@example.org\nSubject: headers only, last line has no newline"));
emit("headers-only-multipart.eml", "headers-only", B("From: a@example.org\r\nSubject: multipart headers, nothing else\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=hh\r\n"));
emit("no-headers-blank-first.eml", "no-headers", B("\r\nbody after an empty header block\r\n"));
emit("no-headers-text.eml", "no-headers", B("Just some text that is not a header line.\nSecond line.\n"));
emit("no-headers-starts-with-delimiter.eml", "no-headers", B("--boundary\r\nContent-Type: text/plain\r\n\r\npart without an enclosing message\r\n--boundary--\r\n"));

// ---- boundary oddities -----------------------------------------------------
reseed(1201);
emit("boundary-never-appears.eml", "boundary-never-appears", render({ headers: topHeaders("declared boundary never appears", [["Content-Type", "multipart/mixed; boundary=\"not-here\""]]), body: "There is no delimiter line in this body.\n--other\nContent-Type: text/plain\n\nstill no\n--other--\n" }));
emit("boundary-never-appears-lf.eml", "boundary-never-appears", render({ headers: topHeaders("declared boundary never appears (LF)", [["Content-Type", "multipart/alternative; boundary=ghost"]]), body: paragraph() + "\n" }, "\n"));
emit("boundary-missing-param.eml", "boundary-never-appears", render({ headers: topHeaders("multipart without a boundary parameter", [["Content-Type", "multipart/mixed"]]), body: "--\nContent-Type: text/plain\n\nx\n----\n" }));
emit("boundary-empty-param.eml", "boundary-never-appears", render({ headers: topHeaders("multipart with empty boundary", [["Content-Type", "multipart/mixed; boundary=\"\""]]), body: "--\nContent-Type: text/plain\n\nx\n----\n" }));
emit("boundary-in-body-text.eml", "boundary-in-body", render({ headers: topHeaders("boundary string inside body text", [["Content-Type", "multipart/mixed; boundary=\"sep\""]]), boundary: "sep", parts: [textPart("The boundary is sep; --sep appears mid-line here.\n  --sep indented is not a delimiter\n--sepX is not a delimiter either\n"), textPart("second\n")] }));
emit("boundary-in-base64-alphabet.eml", "boundary-in-body", render({ headers: topHeaders("boundary made of base64 characters", [["Content-Type", "multipart/mixed; boundary=\"AAAA\""]]), boundary: "AAAA", parts: [textPart("x\n"), { headers: [["Content-Type", "application/octet-stream"], ["Content-Transfer-Encoding", "base64"]], body: "AAAAAAAAAAAAAAAA\nAAAA--AAAA\n" }] }));
emit("boundary-prefix-line.eml", "boundary-in-body", render({ headers: topHeaders("line equal to delimiter plus suffix", [["Content-Type", "multipart/mixed; boundary=\"b\""]]), boundary: "b", parts: [textPart("--bb\n--b-\n--b --\n"), textPart("y\n")] }));
emit("boundary-special-chars.eml", "boundary-in-body", render({ headers: topHeaders("boundary with RFC 2046 special characters", [["Content-Type", "multipart/mixed; boundary=\"'()+_,-./:=? end\""]]), boundary: "'()+_,-./:=? end", parts: [textPart("a\n"), textPart("b\n")] }));
emit("boundary-70-chars.eml", "boundary-in-body", render({ headers: topHeaders("70-character boundary and a 100-character one", [["Content-Type", `multipart/mixed; boundary="${"x".repeat(70)}"`]]), boundary: "x".repeat(70), parts: [{ headers: [["Content-Type", `multipart/mixed; boundary="${"y".repeat(100)}"`]], boundary: "y".repeat(100), parts: [textPart("deep\n")] }] }));
emit("boundary-case-mismatch.eml", "boundary-in-body", render({ headers: topHeaders("delimiter differs in case from parameter", [["Content-Type", "multipart/mixed; boundary=\"CaseB\""]]), boundary: "caseb", parts: [textPart("is --caseb a delimiter for CaseB? no (case-sensitive)\n")] }));
emit("zero-parts-close-only.eml", "zero-parts", B("From: a@example.org\r\nSubject: zero parts, close delimiter only\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=zp\r\n\r\n--zp--\r\n"));
emit("zero-parts-preamble-only.eml", "zero-parts", B("From: a@example.org\r\nSubject: zero parts, preamble and close\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=zp\r\n\r\nThis is a preamble.\r\n--zp--\r\nand an epilogue\r\n"));
emit("zero-parts-open-then-close.eml", "zero-parts", B("From: a@example.org\nSubject: open delimiter immediately followed by close\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=zp\n\n--zp\n--zp--\n"));
emit("zero-parts-nested.eml", "zero-parts", render({ headers: topHeaders("nested multipart with zero parts", [["Content-Type", "multipart/mixed; boundary=o"]]), boundary: "o", parts: [textPart("x\n"), B("Content-Type: multipart/alternative; boundary=empty\r\n\r\n--empty--")] }));

// ---- plain garbage ---------------------------------------------------------
emit("garbage-empty.eml", "garbage", Buffer.alloc(0));
emit("garbage-single-lf.eml", "garbage", B("\n"));
emit("garbage-only-blank-lines.eml", "garbage", B("\r\n\r\n\r\n"));
emit("garbage-nul-1k.eml", "garbage", Buffer.alloc(1024));
emit("garbage-nul-64k.eml", "garbage", Buffer.alloc(65536));
for (const [i, n] of [[1, 1], [2, 17], [3, 512], [4, 4096], [5, 65536], [6, 200000]].map(([a, b]) => [a, b])) emit(`garbage-random-${i}.eml`, "garbage", randBytes(n, 9000 + i));
emit("garbage-random-lines.eml", "garbage", (() => { reseed(9100); const lines = []; for (let i = 0; i < 300; i++) lines.push(randBytes(ri(120), 9101 + i).toString("latin1").replace(/[\r\n]/g, "")); return latin1(lines.join("\n")); })());
{
  reseed(9200);
  const full = render({ headers: topHeaders("to be truncated", [["Content-Type", "multipart/mixed; boundary=tr"]]), boundary: "tr", parts: [textPart(paragraph()), attachment(randBytes(2000, 9201), "t.bin")] });
  emit("garbage-truncated-in-header.eml", "garbage", full.subarray(0, 100));
  emit("garbage-truncated-in-header-cr.eml", "garbage", full.subarray(0, full.indexOf("\r\n") + 1));
  emit("garbage-truncated-in-body.eml", "garbage", full.subarray(0, Math.floor(full.length * 0.6)));
  emit("garbage-truncated-in-delimiter.eml", "garbage", full.subarray(0, full.lastIndexOf("--tr") + 3));
}
emit("garbage-header-no-colon.eml", "garbage", B("From a@example.org\r\nThis line has no colon\r\nSubject: after a bad line\r\n\r\nbody\r\n"));
emit("garbage-mbox-from-line.eml", "garbage", B("From alice@example.org Mon Jan  2 10:04:05 2023\nFrom: alice@example.org\nSubject: starts with an mbox From_ line\n\nbody\n>From escaped\nFrom unescaped\n"));
emit("garbage-utf8-bom.eml", "garbage", cat(Buffer.from([0xef, 0xbb, 0xbf]), "From: a@example.org\r\nSubject: UTF-8 BOM before the first header\r\n\r\nbody\r\n"));
emit("garbage-nul-in-headers.eml", "garbage", B("From: a@exa\0mple.org\r\nSub\0ject: NUL bytes in headers\r\nX-Binary: \x01\x02\x03\x7f\r\n\r\nbody\0\r\n"));
emit("garbage-html-page.eml", "garbage", B("<!DOCTYPE html>\n<html><head><title>Not a message</title></head>\n<body>An HTML page saved as .eml</body></html>\n"));
emit("garbage-fake-png.eml", "garbage", fakePng(3000, 9300));
emit("garbage-json.eml", "garbage", B("{\"not\": \"an email\", \"From\": \"a@example.org\"}\n"));

// ------------------------------------------------------------ index -------
function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else out.push(p);
  }
  return out;
}
const toRel = (p) => relative(ROOT, p).split(sep).join("/");
const realEntries = walk(join(ROOT, "real")).map((p) => {
  const rel = toRel(p);
  return { path: rel, kind: "real", source: rel.split("/")[1] };
});
const all = [...realEntries, ...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
writeFileSync(join(ROOT, "index.json"), JSON.stringify(all, null, 2) + "\n");
const counts = {};
for (const e of all) counts[e.kind] = (counts[e.kind] ?? 0) + 1;
console.log(`wrote ${entries.length} generated fixtures; index.json lists ${all.length} files (${realEntries.length} real)`);
for (const [k, n] of Object.entries(counts).sort()) console.log(`  ${k}: ${n}`);
