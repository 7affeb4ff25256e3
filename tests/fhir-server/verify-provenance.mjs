// Checks kapchart's session Provenances outside kapchart, with Node's own crypto and nothing
// from the chart: every author's signature, every key certificate back to the chart's root,
// and the root fingerprint.
//
//   node verify-provenance.mjs BASE_URL|BUNDLE.json [--token TOKEN] [--root HEX]
//
// BASE_URL: a FHIR R4 server's base (every Provenance it holds is read, page by page);
// BUNDLE.json: a Bundle file (`kapchart export --format fhir`). --token sends
// `Authorization: Bearer TOKEN`. --root: the chart's root fingerprint as the clinic keeps it
// (printed by `kapchart init`); every Provenance must name that root.
//
// For each Provenance with signatures:
// - each key certificate (extension key-certificate): its message names the clinician, the
//   key and the certifier it carries; the certifier's signature over it verifies with the
//   certifier's key; the certifier is an admin whose own certificate holds; the chain ends at
//   a self-certified key whose fingerprint, SHA-256("kapchart root v1\n" + raw key), is the
//   root the Provenance names (and --root, when given);
// - each signature: its signed message is a kapchart audit row ("kapchart audit row v1\n"
//   and the row's fields as a JSON array), the Ed25519 signature (data) verifies over it with
//   the certified key of the clinician the row names, its `when` is the row's time, and its
//   `who` is the agent holding that key.
// Exit 0 when every check holds (and at least one signature was checked), 1 naming each
// failure, 2 on bad arguments or an unreadable source.
import crypto from 'node:crypto';
import fs from 'node:fs';

const SD = 'https://kapchart.org/fhir/StructureDefinition/';
const EXT = {
  agentKey: SD + 'ed25519-key',
  message: SD + 'signed-message',
  auditRow: SD + 'audit-row',
  certificate: SD + 'key-certificate',
  root: SD + 'root-fingerprint',
};
const ROW_PREFIX = 'kapchart audit row v1\n';
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');

function usage(why) {
  process.stderr.write(`verify-provenance: ${why}\nusage: node verify-provenance.mjs BASE_URL|BUNDLE.json [--token TOKEN] [--root HEX]\n`);
  process.exit(2);
}

const args = process.argv.slice(2);
let source;
let token;
let expectedRoot;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--token') token = args[++i];
  else if (args[i] === '--root') expectedRoot = (args[++i] || '').replace(/[\s:-]/g, '').toLowerCase();
  else if (!source) source = args[i];
  else usage(`unexpected argument '${args[i]}'`);
}
if (!source) usage('no FHIR base URL or Bundle file given');
if (expectedRoot !== undefined && !/^[0-9a-f]{64}$/.test(expectedRoot)) {
  usage('--root must be 64 hex digits');
}

async function getJson(url) {
  const headers = { accept: 'application/fhir+json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(url, { headers });
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  return res.json();
}

async function provenances() {
  if (/^https?:\/\//.test(source)) {
    const out = [];
    let url = `${source.replace(/\/+$/, '')}/Provenance?_count=100`;
    while (url) {
      const page = await getJson(url);
      for (const e of page.entry || []) if (e.resource?.resourceType === 'Provenance') out.push(e.resource);
      url = (page.link || []).find((l) => l.relation === 'next')?.url;
    }
    return out;
  }
  const bundle = JSON.parse(fs.readFileSync(source, 'utf8'));
  if (bundle.resourceType !== 'Bundle') throw new Error(`${source} is not a FHIR Bundle`);
  return (bundle.entry || []).map((e) => e.resource).filter((r) => r?.resourceType === 'Provenance');
}

const b64 = (s) => (typeof s === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(s) ? Buffer.from(s, 'base64') : null);
const ext = (el, url) => (el.extension || []).filter((x) => x.url === url);
const sub = (x, url) => (x.extension || []).find((s) => s.url === url);

function publicKey(raw) {
  return crypto.createPublicKey({ key: Buffer.concat([SPKI_ED25519, raw]), format: 'der', type: 'spki' });
}

function verifies(raw, message, signature) {
  if (!raw || raw.length !== 32 || !signature || signature.length !== 64) return false;
  try {
    return crypto.verify(null, message, publicKey(raw), signature);
  } catch {
    return false;
  }
}

function rootOf(raw) {
  return crypto.createHash('sha256').update('kapchart root v1\n').update(raw).digest('hex');
}

// "name: value" lines of a certificate message.
function certificateFields(message) {
  const text = message.toString('utf8');
  const lines = text.split('\n');
  if (lines[0] !== 'kapchart team certificate v1') return null;
  const fields = {};
  for (const line of lines.slice(1)) {
    const at = line.indexOf(': ');
    if (at > 0) fields[line.slice(0, at)] = line.slice(at + 2);
    else if (line.endsWith(':')) fields[line.slice(0, -1)] = '';
  }
  return fields;
}

function checkProvenance(p, failures) {
  const name = `Provenance/${p.id}`;
  const fail = (what) => failures.push(`${name}: ${what}`);
  const roots = ext(p, EXT.root).map((x) => x.valueString);
  if (roots.length !== 1 || !/^[0-9a-f]{64}$/.test(roots[0] || '')) {
    fail('names no root fingerprint (one extension root-fingerprint of 64 hex digits)');
  }
  const root = roots[0];
  if (expectedRoot && root && root !== expectedRoot) {
    fail(`names the root ${root}, not the clinic's ${expectedRoot}`);
  }
  // Certificates by clinician id.
  const certs = new Map();
  ext(p, EXT.certificate).forEach((x, i) => {
    const c = {
      index: i + 1,
      clinician: sub(x, 'clinician')?.valueInteger,
      key: b64(sub(x, 'key')?.valueBase64Binary),
      by: sub(x, 'certified-by')?.valueInteger,
      message: b64(sub(x, 'message')?.valueBase64Binary),
      signature: b64(sub(x, 'signature')?.valueBase64Binary),
    };
    certs.set(c.clinician, c);
  });
  // Whether clinician `id`'s certificate holds back to the root; failures named once.
  const verdicts = new Map();
  const holds = (id, seen = new Set()) => {
    if (verdicts.has(id)) return verdicts.get(id);
    const c = certs.get(id);
    const cfail = (why) => {
      fail(`certificate of clinician ${id}${c ? ` (key-certificate ${c.index})` : ''}: ${why}`);
      verdicts.set(id, false);
      return false;
    };
    if (!c) return cfail('missing');
    if (seen.has(id)) return cfail('its chain of certifiers loops');
    seen.add(id);
    if (!c.key || c.key.length !== 32) return cfail('its key is not 32 bytes of base64');
    if (!c.message) return cfail('its message is not base64');
    const f = certificateFields(c.message);
    if (!f) return cfail('its message is not a kapchart team certificate v1');
    if (f['clinician-id'] !== String(id)) return cfail(`its message names clinician ${f['clinician-id']}`);
    if (f['ed25519-key'] !== c.key.toString('hex')) return cfail('its message names another key than the one it carries');
    if (f['certified-by'] !== String(c.by)) return cfail(`its message names certifier ${f['certified-by']}, not ${c.by}`);
    let certifierKey;
    if (c.by === id) {
      if (rootOf(c.key) !== root) return cfail(`it certifies itself but its key's fingerprint ${rootOf(c.key)} is not the root ${root}`);
      certifierKey = c.key;
    } else {
      const by = certs.get(c.by);
      if (!by) return cfail(`its certifier, clinician ${c.by}, has no certificate here`);
      if (certificateFields(by.message || Buffer.alloc(0))?.role !== 'admin') return cfail(`its certifier, clinician ${c.by}, is not an admin`);
      if (!holds(c.by, seen)) return cfail(`its certifier's certificate (clinician ${c.by}) does not hold`);
      certifierKey = by.key;
    }
    if (!verifies(certifierKey, c.message, c.signature)) {
      return cfail(`its signature does not verify with ${c.by === id ? 'its own (root) key' : `clinician ${c.by}'s key`}`);
    }
    verdicts.set(id, true);
    return true;
  };
  // Agents' keys by Practitioner reference.
  const agentKeys = new Map();
  for (const a of p.agent || []) {
    const k = ext(a, EXT.agentKey)[0]?.valueBase64Binary;
    if (a.who?.reference && k) agentKeys.set(a.who.reference, k);
  }
  let checked = 0;
  (p.signature || []).forEach((s, i) => {
    const message = b64(ext(s, EXT.message)[0]?.valueBase64Binary);
    const row = ext(s, EXT.auditRow)[0]?.valueString || '?';
    const label = `signature ${i + 1} (audit row ${row})`;
    if (!message) return fail(`${label}: carries no signed message (extension signed-message)`);
    const text = message.toString('utf8');
    if (!text.startsWith(ROW_PREFIX)) return fail(`${label}: its signed message is not a kapchart audit row v1`);
    let fields;
    try {
      fields = JSON.parse(text.slice(ROW_PREFIX.length));
    } catch {
      return fail(`${label}: its signed message's fields are not a JSON array`);
    }
    if (!Array.isArray(fields) || fields.length !== 8) return fail(`${label}: its signed message's fields are not the 8 of an audit row`);
    const [, seq, atMs, clinician, action, kind, objectId] = fields;
    const what = `${label}, ${action} of ${kind} ${objectId} by clinician ${clinician}`;
    const id = Number(clinician);
    if (!holds(id)) return fail(`${what}: its author's key is not certified back to the root`);
    const key = certs.get(id).key;
    if (!verifies(key, message, b64(s.data))) {
      return fail(`${what}: the signature does not verify with clinician ${clinician}'s certified key over the signed message`);
    }
    if (!row.startsWith(`${seq}:`)) fail(`${what}: its audit-row extension says ${row}, the signed row is ${seq}`);
    if (Date.parse(s.when) !== atMs) fail(`${what}: its when (${s.when}) is not the signed row's time (${new Date(atMs).toISOString()})`);
    if (agentKeys.get(s.who?.reference) !== key.toString('base64')) {
      fail(`${what}: its who (${s.who?.reference}) is not the agent holding clinician ${clinician}'s certified key`);
    }
    checked += 1;
  });
  return checked;
}

let list;
try {
  list = await provenances();
} catch (e) {
  process.stderr.write(`verify-provenance: ${e.message}\n`);
  process.exit(2);
}
const failures = [];
let signed = 0;
let signatures = 0;
for (const p of list) {
  if (!(p.signature || []).length) continue;
  signed += 1;
  signatures += checkProvenance(p, failures);
}
if (signatures === 0 && failures.length === 0) failures.push(`${source}: no Provenance with signatures to check`);
if (failures.length) {
  for (const f of failures) process.stdout.write(`FAIL ${f}\n`);
  process.stdout.write(`${failures.length} failure(s); ${signatures} signature(s) held in ${signed} Provenance\n`);
  process.exit(1);
}
process.stdout.write(`ok: ${signatures} signature(s) in ${signed} Provenance verify, every author's key certified back to the root\n`);
