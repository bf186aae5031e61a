// The OpenAPI document (src/server/openapi.json) against a real `faceweave serve`: the document lints clean
// with @redocly/cli, the server serves it unchanged, and real responses of every route, errors included,
// validate against the schemas the document gives for their status and content type. An answer whose status
// the operation does not list fails. Run by CTest (api.openapi); by hand:
//   node tests/api/openapi.test.mjs --faceweave build/release/apps/faceweave/faceweave
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Server, faceweave, testdata, sleep } from '../browser/support.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const nodeModules = process.env.FACEWEAVE_API_NODE_MODULES || path.join(here, 'node_modules');
const require = createRequire(path.join(nodeModules, 'noop.js'));
const Ajv2020 = require('ajv/dist/2020').default;
const addFormats = require('ajv-formats').default;

const docPath = path.resolve(here, '../../src/server/openapi.json');
const docText = fs.readFileSync(docPath, 'utf8');
const doc = JSON.parse(docText);
assert.ok(faceweave, 'pass --faceweave PATH');

// 1. The document lints clean: no error and no warning under redocly's recommended rules.
{
  const redocly = path.join(nodeModules, '.bin', 'redocly');
  let out;
  try {
    out = execFileSync(redocly, ['lint', docPath, '--format=json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    out = err.stdout;
  }
  const report = JSON.parse(out);
  assert.deepEqual(report.totals, { errors: 0, warnings: 0, ignored: 0 },
    'redocly lint: ' + JSON.stringify(report.problems?.map((p) => `${p.ruleId}: ${p.message}`), null, 1));
  console.log('ok - redocly lint: no problems');
}

// 2. Response validation.
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema({ $id: 'faceweave-openapi', components: doc.components });
const compiled = new Map();
function validator(schema) {
  const key = JSON.stringify(schema);
  if (!compiled.has(key)) {
    // References inside the document's schemas point into its components (#/components/schemas/X).
    const rewritten = JSON.parse(key.replaceAll('"#/components/', '"faceweave-openapi#/components/'));
    compiled.set(key, ajv.compile(rewritten));
  }
  return compiled.get(key);
}
function resolve(obj) {
  while (obj && obj.$ref) {
    const parts = obj.$ref.replace(/^#\//, '').split('/');
    obj = parts.reduce((o, k) => o[k], doc);
  }
  return obj;
}

function templateMatch(template, p) {
  const re = new RegExp('^' + template.replace(/[.]/g, '\\.').replace(/\{[^}]+\}/g, '[^/]+') + '$');
  return re.test(p);
}
function operationFor(method, urlPath) {
  // A fixed path wins over a template that also fits it (OpenAPI's rule, and the server's table order).
  const fits = Object.keys(doc.paths).filter((t) => templateMatch(t, urlPath));
  fits.sort((a, b) => (a.match(/\{/g) || []).length - (b.match(/\{/g) || []).length);
  for (const t of fits) if (doc.paths[t][method.toLowerCase()]) return { template: t, op: doc.paths[t][method.toLowerCase()] };
  return { template: fits[0], op: null };
}

const counts = new Map();
// Checks one real answer against the document; returns the parsed JSON body when it is JSON.
function check(method, urlPath, res) {
  const { template, op } = operationFor(method, urlPath.split('?')[0]);
  const where = `${method} ${urlPath} -> ${res.status}`;
  const type = (res.headers['content-type'] || '').split(';')[0].trim();
  let body = null;
  if (type === 'application/json') body = JSON.parse(res.body.toString('utf8'));
  if (!op) {
    // No such operation: 405 on a documented path (Allow lists its methods) or 404 on an unknown one.
    assert.ok(validator({ $ref: '#/components/schemas/Error' })(body), where + ': the error shape');
    if (template) {
      assert.equal(res.status, 405, where);
      const documented = Object.keys(doc.paths[template]).map((m) => m.toUpperCase()).sort();
      assert.deepEqual(res.headers.allow.split(', ').sort(), documented, where + ': Allow');
    } else {
      assert.equal(res.status, 404, where);
    }
    return body;
  }
  const response = resolve(op.responses[String(res.status)]);
  assert.ok(response, `${where}: status ${res.status} is not documented for ${method} ${template}`);
  const media = response.content?.[type];
  assert.ok(media, `${where}: content type ${type} is not documented (${Object.keys(response.content || {})})`);
  if (body !== null) {
    const validate = validator(media.schema);
    assert.ok(validate(body), `${where}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 400)}`);
  } else {
    assert.ok(res.body.length > 0 || method === 'HEAD', where + ': an empty body');
  }
  for (const name of Object.keys(response.headers || {}))
    assert.ok(res.headers[name.toLowerCase()] !== undefined, `${where}: header ${name}`);
  const key = `${method.toLowerCase()} ${template}`;
  counts.set(key, (counts.get(key) || 0) + 1);
  return body;
}

function request(base, method, urlPath, { headers = {}, body, stream = false } = {}) {
  const url = new URL(urlPath, base);
  return new Promise((resolvePromise, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => {
        chunks.push(c);
        if (stream) req.destroy(); // the first chunk of an endless stream is enough
      });
      const done = () => resolvePromise({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) });
      res.on('end', done);
      res.on('close', done);
    });
    req.on('error', (err) => (stream ? null : reject(err)));
    if (body !== undefined) req.write(body);
    req.end();
  });
}
function multipart(fileName, content) {
  const boundary = 'faceweaveboundary' + Date.now();
  const head = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${fileName}"\r\n` +
    'Content-Type: application/octet-stream\r\n\r\n';
  return { headers: { 'Content-Type': `multipart/form-data; boundary=${boundary}` },
    body: Buffer.concat([Buffer.from(head), content, Buffer.from(`\r\n--${boundary}--\r\n`)]) };
}
const jsonBody = (value) => ({ headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(value) });

async function call(base, method, urlPath, opts, expectStatus) {
  const res = await request(base, method, urlPath, opts);
  const body = check(method, urlPath, res);
  if (expectStatus !== undefined)
    assert.equal(res.status, expectStatus, `${method} ${urlPath}: ${res.body.toString('utf8').slice(0, 300)}`);
  return { res, body };
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'faceweave-openapi-'));
const open = new Server(faceweave, path.join(work, 'open'), path.join(work, 'open.log'), ['--max-image-mb', '1', '--max-video-mb', '1'], 'off');
const token = 'openapi-test-token';
const guarded = new Server(faceweave, path.join(work, 'guarded'), path.join(work, 'guarded.log'), ['--token', token], 'off');
try {
  const base = await open.waitReady(60_000).then(() => open.base);
  const gbase = await guarded.waitReady(60_000).then(() => guarded.base);
  const img = (name) => fs.readFileSync(path.join(testdata, 'images', name));
  const auth = { Authorization: `Bearer ${token}` };

  // Health, configuration, metrics, this document.
  await call(base, 'GET', '/healthz', {}, 200);
  await call(base, 'POST', '/healthz', {}, 405);
  await call(base, 'GET', '/readyz', {}, 200);
  await call(gbase, 'GET', '/readyz', {}, 200); // open like /healthz
  await call(base, 'POST', '/readyz', {}, 405);
  await call(base, 'GET', '/api/config', {}, 200);
  await call(gbase, 'GET', '/api/config', {}, 200);
  await call(base, 'GET', '/metrics', {}, 200);
  await call(gbase, 'GET', '/metrics', {}, 401);
  await call(gbase, 'GET', '/metrics', { headers: auth }, 200);
  const served = await call(base, 'GET', '/api/openapi.json', {}, 200);
  assert.deepEqual(served.body, doc, 'the server serves the document in the repository');
  await call(gbase, 'GET', '/api/openapi.json', {}, 200);
  await call(base, 'GET', '/api/config', { headers: { Host: 'evil.example:80' } }, 421);
  await call(base, 'GET', '/api/nothing', {}, 404);

  // Uploads.
  const obama = (await call(base, 'POST', '/api/uploads', multipart('obama.jpg', img('obama.jpg')), 201)).body;
  const biden = (await call(base, 'POST', '/api/uploads', multipart('biden.jpg', img('biden.jpg')), 201)).body;
  const video = (await call(base, 'POST', '/api/uploads',
    multipart('v.mp4', fs.readFileSync(path.join(testdata, 'video', 'video_01.mp4'))), 201)).body;
  assert.equal(video.kind, 'video');
  await call(base, 'POST', '/api/uploads', jsonBody({}), 400);
  await call(base, 'POST', '/api/uploads', multipart('notes.txt', Buffer.from('not a picture\n'.repeat(20))), 415);
  await call(base, 'POST', '/api/uploads', multipart('big.jpg', Buffer.concat([img('obama.jpg'), Buffer.alloc(2 << 20)])), 413);
  await call(base, 'POST', '/api/uploads', { ...multipart('a.jpg', img('obama.jpg')),
    headers: { ...multipart('a.jpg', Buffer.alloc(0)).headers, Origin: 'http://evil.example' } }, 403);
  await call(gbase, 'POST', '/api/uploads', multipart('obama.jpg', img('obama.jpg')), 401);
  await call(base, 'DELETE', `/api/uploads/${obama.id}`, {}, 405);

  await call(base, 'GET', `/api/uploads/${obama.id}`, {}, 200);
  await call(base, 'GET', `/api/uploads/${video.id}`, {}, 200);
  await call(base, 'GET', '/api/uploads/u_000000000000000000000000', {}, 404);
  await call(base, 'GET', `/api/uploads/${obama.id}/faces`, {}, 200);
  await call(base, 'GET', `/api/uploads/${video.id}/faces?frame=3`, {}, 200);
  await call(base, 'GET', `/api/uploads/${obama.id}/faces?frame=x`, {}, 400);
  await call(base, 'GET', `/api/uploads/${obama.id}/faces?order=sideways`, {}, 400);
  await call(base, 'GET', '/api/uploads/u_000000000000000000000000/faces', {}, 404);
  await call(base, 'GET', `/api/uploads/${obama.id}/faces/0.jpg`, {}, 200);
  await call(base, 'GET', `/api/uploads/${obama.id}/faces/99.jpg`, {}, 404);
  await call(base, 'GET', `/api/uploads/${obama.id}/faces/abc.jpg`, {}, 404);
  await call(base, 'GET', `/api/uploads/${obama.id}/faces/0.jpg?frame=-1`, {}, 400);
  await call(base, 'GET', `/api/uploads/${obama.id}/frame`, {}, 200);
  await call(base, 'GET', `/api/uploads/${video.id}/frame?index=5`, {}, 200);
  await call(base, 'GET', `/api/uploads/${obama.id}/frame?index=-1`, {}, 400);
  await call(base, 'GET', '/api/uploads/u_000000000000000000000000/frame', {}, 404);

  // Preview.
  const swap = { sources: [obama.id], target: biden.id };
  await call(base, 'POST', '/api/preview', jsonBody({ ...swap, options: { blend: 'affine' } }), 200);
  await call(base, 'POST', '/api/preview', jsonBody({ sources: [obama.id], target: video.id, frame: 2 }), 200);
  await call(base, 'POST', '/api/preview', { headers: { 'Content-Type': 'application/json' }, body: '{"sources": [' }, 400);
  await call(base, 'POST', '/api/preview', jsonBody({ ...swap, options: { identity_strength: 7 } }), 400);
  await call(base, 'POST', '/api/preview', jsonBody({ sources: ['u_000000000000000000000000'], target: biden.id }), 404);
  await call(base, 'GET', '/api/preview', {}, 405);

  // Jobs.
  const job = (await call(base, 'POST', '/api/jobs', jsonBody(swap), 201)).body;
  await call(base, 'POST', '/api/jobs', jsonBody({ sources: [] }), 400);
  await call(base, 'POST', '/api/jobs', jsonBody({ ...swap, target: 'u_000000000000000000000000' }), 404);
  await call(base, 'GET', `/api/jobs/${job.id}/result`, {}, undefined); // 409 or 200, both documented
  let done = null;
  for (let i = 0; i < 600 && !done; ++i) {
    const j = (await call(base, 'GET', `/api/jobs/${job.id}`, {}, 200)).body;
    if (j.status === 'done' || j.status === 'failed') done = j;
    else await sleep(100);
  }
  assert.equal(done?.status, 'done', 'the job finished');
  await call(base, 'GET', `/api/jobs/${job.id}/result`, {}, 200);
  await call(base, 'POST', '/api/inspect', jsonBody({ job: job.id }), 200);
  await call(base, 'POST', '/api/inspect', jsonBody({ upload: obama.id }), 200);
  await call(base, 'POST', '/api/inspect', jsonBody({}), 400);
  await call(base, 'POST', '/api/inspect', jsonBody({ upload: 'u_000000000000000000000000' }), 404);
  await call(gbase, 'POST', '/api/inspect', jsonBody({ upload: obama.id }), 401);
  await call(base, 'DELETE', `/api/jobs/${job.id}`, {}, 409);
  const videoJob = (await call(base, 'POST', '/api/jobs', jsonBody({ sources: [obama.id], target: video.id }), 201)).body;
  await call(base, 'DELETE', `/api/jobs/${videoJob.id}`, {}, 200);
  await call(base, 'GET', `/api/jobs/${videoJob.id}/result`, {}, 409);
  await call(base, 'GET', '/api/jobs', {}, 200);
  await call(base, 'GET', '/api/jobs?status=done&limit=5', {}, 200);
  await call(base, 'GET', '/api/jobs?status=sleeping', {}, 400);
  await call(base, 'GET', '/api/jobs?limit=0', {}, 400);
  await call(base, 'GET', '/api/jobs/j_000000000000000000000000', {}, 404);
  await call(base, 'DELETE', '/api/jobs/j_000000000000000000000000', {}, 404);
  await call(base, 'GET', '/api/jobs/j_000000000000000000000000/result', {}, 404);
  await call(base, 'PUT', '/api/jobs', {}, undefined); // not routed by the transport: any documented error
  await call(gbase, 'GET', '/api/jobs', {}, 401);
  await call(gbase, 'GET', '/api/jobs', { headers: auth }, 200);
  await call(base, 'DELETE', `/api/jobs/${job.id}`, { headers: { Origin: 'http://evil.example' } }, 403);

  // Browser telemetry.
  await call(base, 'POST', '/api/events', jsonBody({ client: 'c_openapi_test', events: [
    { event: 'ui.page', props: { page: 'workbench' } }, { event: 'swap.run' }] }), 202);
  await call(base, 'POST', '/api/events', jsonBody({ client: 'x', events: [] }), 400);
  await call(base, 'POST', '/api/events', jsonBody({ client: 'c_openapi_test', events: {} }), 400);
  await call(gbase, 'POST', '/api/events', jsonBody({ client: 'c_openapi_test', events: [] }), 401);

  // Insights (no telemetry database: the empty states) and the live stream.
  await call(base, 'GET', '/api/insights', {}, 200);
  await call(base, 'GET', '/api/insights/usage', {}, 200);
  await call(base, 'GET', '/api/insights/errors?format=csv', {}, 200);
  await call(base, 'GET', '/api/insights/retention?weeks=4', {}, 200);
  await call(base, 'GET', '/api/insights/usage?from=2026-13-01', {}, 400);
  await call(base, 'GET', '/api/insights/usage?format=xml', {}, 400);
  await call(base, 'GET', '/api/insights/defaults?k=3', {}, 200);
  await call(base, 'GET', '/api/insights/latency?media=video', {}, 200);
  await call(base, 'GET', '/api/insights/latency?by=input&with=color_match%3Dnone', {}, 200);
  await call(base, 'GET', '/api/insights/latency?by=size', {}, 400);
  await call(base, 'GET', '/api/insights/defaults?k=0', {}, 400);
  await call(base, 'GET', '/api/insights/events', {}, 200);
  await call(base, 'GET', '/api/insights/events?event=command.run&prop=fallback:true&limit=5&offset=0', {}, 200);
  await call(base, 'GET', '/api/insights/events?limit=0', {}, 400);
  await call(base, 'GET', '/api/insights/events?prop=nocolon', {}, 400);
  await call(gbase, 'GET', '/api/insights/events', {}, 401);
  // Experiments on defaults (docs/experiments.md): none yet, then one created from the command line.
  await call(base, 'GET', '/api/insights/experiments', {}, 200);
  await call(base, 'GET', '/api/insights/experiments/cm', {}, 404);
  execFileSync(faceweave, ['--telemetry', 'off', '--data-dir', path.join(work, 'open'), 'experiments', 'create', 'cm',
    '--option', 'color_match', '--arms', 'reinhard,none'], { encoding: 'utf8' });
  await call(base, 'GET', '/api/insights/experiments?k=3', {}, 200);
  await call(base, 'GET', '/api/insights/experiments/cm', {}, 200);
  await call(base, 'GET', '/api/insights/experiments/cm?format=csv', {}, 200);
  await call(base, 'GET', '/api/insights/experiments/cm?metric=happiness', {}, 400);
  await call(base, 'GET', '/api/insights/experiments?k=0', {}, 400);
  await call(gbase, 'GET', '/api/insights/experiments', {}, 401);
  await call(base, 'GET', '/api/insights/nope', {}, 404);
  await call(base, 'POST', '/api/insights/usage', jsonBody({}), 405);
  await call(gbase, 'GET', '/api/insights', {}, 401);
  await call(base, 'GET', '/api/insights/stream', { stream: true }, 200);
  await call(gbase, 'GET', '/api/insights/stream', { stream: true }, 401);

  // Every documented operation was called at least once.
  for (const [template, item] of Object.entries(doc.paths))
    for (const method of Object.keys(item))
      assert.ok(counts.get(`${method} ${template}`) > 0, `no call checked ${method.toUpperCase()} ${template}`);
  console.log(`ok - ${[...counts.values()].reduce((a, b) => a + b, 0)} responses of ${counts.size} operations validate`);
} catch (err) {
  console.error('server log (open):\n' + open.tail());
  throw err;
} finally {
  await open.stop();
  await guarded.stop();
  fs.rmSync(work, { recursive: true, force: true });
}
