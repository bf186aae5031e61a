// The workbench: upload sources and a target, set options, preview, run a job, compare, download.
// Every meaningful interaction is reported through ../shared/telemetry.js (docs/api.md).

import './styles.css';
import { api, apiUrl, ApiError, getToken, setToken, onUnauthorized } from '../shared/api.js';
import { telemetry } from '../shared/telemetry.js';
import { h, clear, $, addMessage } from '../shared/dom.js';
import { OptionsForm } from './options.js';
import { JobRunner, renderJobList } from './jobs.js';
import { Viewer } from './viewer.js';

const AUTO_PREVIEW_MS = 700;
const SESSION_KEY = 'faceweave.workbench';
const NARROW = matchMedia('(max-width: 900px)');

const state = {
  autoPreview: false, // a preview is shown: option changes render it again
  autoTimer: null,
  restoring: false,
  config: null,
  sources: [], // upload descriptions (docs/api.md, "Uploads")
  target: null,
  uploading: { source: 0, target: 0 },
  previewing: false,
  options: null,
  runner: null,
  viewer: null,
};

const el = {
  serverState: $('#server-state'),
  messages: $('#messages'),
  tokenForm: $('#token-form'),
  tokenInput: $('#token-input'),
  sourceInput: $('#source-input'),
  sourceDrop: $('#source-drop'),
  sourceThumbs: $('#source-thumbs'),
  targetInput: $('#target-input'),
  targetDrop: $('#target-drop'),
  targetInfo: $('#target-info'),
  options: $('#options'),
  previewBtn: $('#preview-btn'),
  runBtn: $('#run-btn'),
  cancelBtn: $('#cancel-btn'),
  downloadLink: $('#download-link'),
  actionHint: $('#action-hint'),
  jobList: $('#job-list'),
  jobsRefresh: $('#jobs-refresh'),
};

// ---- messages and errors -------------------------------------------------------------------------

function showMessage(text, kind = 'error') {
  return addMessage(el.messages, text, kind);
}

function clearMessages() {
  clear(el.messages);
}

const UPLOAD_FIELDS = { sources: '#err-sources', source: '#err-sources', target: '#err-target', file: null };

// Shows an API error where the user looks: next to the field it names and in the message area; reports
// it as a ui.error event (code and a short word for where, never the message).
function reportError(err, where, fieldHint) {
  if (err && err.name === 'AbortError') return;
  const apiError = err instanceof ApiError ? err : new ApiError(0, 'internal', String((err && err.message) || err));
  const field = apiError.field || fieldHint;
  if (field && field in UPLOAD_FIELDS) {
    const sel = UPLOAD_FIELDS[field] || (where === 'upload_target' ? '#err-target' : '#err-sources');
    $(sel).textContent = apiError.message;
  } else if (field && state.options) {
    state.options.showFieldError(field, apiError.message);
  }
  const label = { upload: 'Upload', preview: 'Preview', job: 'Job', cancel: 'Cancel', config: 'Configuration' }[
    where.replace(/_.*/, '')
  ];
  // A missing token is asked for by the token form; everything else is said in the message area.
  if (apiError.code !== 'unauthorized') showMessage(label ? `${label} failed: ${apiError.message}` : apiError.message);
  if (apiError.code !== 'network') telemetry.error(apiError.code, where.replace(/_.*/, ''));
}

// ---- configuration and access token --------------------------------------------------------------

onUnauthorized(() => {
  setToken('');
  el.tokenForm.hidden = false;
  el.tokenInput.focus();
});

el.tokenForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const token = el.tokenInput.value.trim();
  if (!token) return;
  setToken(token);
  el.tokenInput.value = '';
  el.tokenForm.hidden = true;
  telemetry.action('token', 'submit');
  clearMessages();
  start();
});

async function start() {
  el.serverState.textContent = 'Connecting…';
  let config;
  try {
    config = await api.config(telemetry.client);
  } catch (err) {
    el.serverState.textContent = err.code === 'unauthorized' ? 'Token needed' : 'Not connected';
    reportError(err, 'config');
    return;
  }
  if (config.auth_required && !getToken()) {
    el.tokenForm.hidden = false;
    el.tokenInput.focus();
  }
  state.config = config;
  telemetry.setConsent(config.telemetry);
  el.serverState.textContent = `faceweave ${config.version || ''} · connected`;
  if (!state.options) {
    state.options = new OptionsForm(el.options, config, { onChange: optionChanged, onSettled: optionSettled });
    telemetry.beforePageHide(() => state.options.settle());
    if (state.target) state.options.setTarget(state.target.kind, state.target.id, state.target.faceList || [], state.target);
  }
  refreshJobs();
  const session = loadSession();
  if (session && (session.target || (session.sources && session.sources.length)) && !state.sources.length && !state.target) {
    await restoreInputs(session);
  }
  updateActions();
}

// ---- options -------------------------------------------------------------------------------------

function optionChanged(key, value, old) {
  if (key === 'face_selector_order') reorderFaces();
  updateActions();
  saveSession();
  // The timeline shows the chosen frame of the video until a preview is on screen.
  if (key === 'preview_frame' && !state.autoPreview && state.target && state.target.kind === 'video') {
    state.viewer.showTarget(apiUrl(`/api/uploads/${state.target.id}/frame`, { index: value }));
  }
  // Once a preview is on screen, a changed option renders it again (after the user stops changing).
  if (state.autoPreview && JSON.stringify(value) !== JSON.stringify(old)) {
    clearTimeout(state.autoTimer);
    state.autoTimer = setTimeout(() => preview({ auto: true }), AUTO_PREVIEW_MS);
  }
}

// One ui.action per settled change, with the new and the previous value.
function optionSettled(key, value, old) {
  const extra = {};
  if (Array.isArray(value)) {
    // Mask padding: the side that changed, as numbers.
    const i = value.findIndex((v, n) => v !== old[n]);
    extra.number = value[i];
    extra.old_number = old[i];
  } else if (typeof value === 'number' || (value === null && typeof old === 'number')) {
    if (value !== null) extra.number = value;
    if (typeof old === 'number') extra.old_number = old;
  } else if (typeof value === 'boolean') {
    extra.value = value ? 'on' : 'off';
    extra.old_value = old ? 'on' : 'off';
  } else {
    extra.value = value;
    if (old !== null && old !== undefined) extra.old_value = old;
  }
  telemetry.action(key, 'change', extra);
}

// ---- uploads -------------------------------------------------------------------------------------

function kindOf(file) {
  return file.type && file.type.startsWith('video/') ? 'video' : 'image';
}

async function uploadFiles(role, files) {
  const list = Array.from(files || []);
  if (!list.length) return;
  const errEl = role === 'source' ? $('#err-sources') : $('#err-target');
  errEl.textContent = '';
  const chosen = role === 'target' ? list.slice(0, 1) : list;
  for (const file of chosen) {
    state.uploading[role] += 1;
    const pending = role === 'source' ? addPendingThumb(file) : showTargetPending(file);
    updateActions();
    try {
      const upload = await api.upload(file);
      telemetry.action(role, 'upload', { value: upload.kind || kindOf(file) });
      if (role === 'source') addSource(upload, pending, file.name);
      else await setTarget(upload);
    } catch (err) {
      if (pending) pending.remove();
      if (role === 'target') renderTarget();
      reportError(err, `upload_${role}`, role === 'source' ? 'sources' : 'target');
    } finally {
      state.uploading[role] -= 1;
      updateActions();
    }
  }
}

function addPendingThumb(file) {
  const li = h('li', { class: 'thumb pending', 'aria-busy': 'true' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }),
    h('span', { class: 'small' }, `Uploading ${kindOf(file)}…`));
  el.sourceThumbs.append(li);
  return li;
}

// A source must be a photo with a face: anything else is said next to the sources and not kept, so it
// cannot break a later preview or run.
function addSource(upload, pending, name) {
  if (upload.kind === 'video') {
    pending.remove();
    $('#err-sources').textContent = 'A source must be a photo; this file is a video.';
    telemetry.error('invalid_argument', 'upload');
    return;
  }
  if (Array.isArray(upload.faces) && !upload.faces.length) {
    pending.remove();
    $('#err-sources').textContent = `No face was found in ${name || 'this photo'}, so it is not used. Choose a photo where one face is clearly visible.`;
    telemetry.error('no_face', 'upload');
    return;
  }
  state.sources.push(upload);
  const n = state.sources.length;
  const faces = Array.isArray(upload.faces) ? upload.faces.length : 0;
  const remove = h('button', { type: 'button', class: 'remove', 'aria-label': `Remove source photo ${n}` }, '×');
  const li = h('li', { class: 'thumb', 'data-upload': upload.id },
    h('img', { src: apiUrl(`/api/uploads/${upload.id}/frame`), alt: `Source photo ${n}` }),
    h('span', { class: 'small' }, `${faces} face${faces === 1 ? '' : 's'}`),
    remove);
  remove.addEventListener('click', () => {
    state.sources = state.sources.filter((s) => s.id !== upload.id);
    // Focus stays in the list (the next photo's remove button) or goes back to the chooser.
    const next = li.nextElementSibling || li.previousElementSibling;
    li.remove();
    (next ? next.querySelector('.remove') : el.sourceInput).focus();
    telemetry.action('source', 'click', { value: 'remove' });
    saveSession();
    updateActions();
  });
  pending.replaceWith(li);
  saveSession();
}

function showTargetPending(file) {
  clear(el.targetInfo);
  el.targetInfo.hidden = false;
  const pending = h('div', { class: 'pending', 'aria-busy': 'true' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }),
    h('span', { class: 'small' }, `Uploading ${kindOf(file)}…`));
  el.targetInfo.append(pending);
  return pending;
}

async function setTarget(upload) {
  state.target = upload;
  state.target.faceList = await listFaces(upload);
  renderTarget();
  if (state.options) state.options.setTarget(upload.kind, upload.id, state.target.faceList, upload);
  state.viewer.showTarget(apiUrl(`/api/uploads/${upload.id}/frame`));
  focusFace(upload);
  saveSession();
}

// The viewer's zoom goes to the reference face (or the first) of the image shown.
function focusFace(upload) {
  if (!upload || upload.kind === 'video') return state.viewer.setFace(null);
  const chosen = state.options && state.target === upload ? state.options.chosenFace() : null;
  const faces = upload.faceList && upload.faceList.length ? upload.faceList : upload.faces || [];
  state.viewer.setFace(chosen || faces[0] || null, upload.width, upload.height);
}

// The upload a job ran on: the one in the form, or asked of the server (null once it is gone).
async function jobTarget(job) {
  if (state.target && state.target.id === job.target) return state.target;
  try {
    return await api.getUpload(job.target);
  } catch {
    return null;
  }
}

function targetFaces(t) {
  return (t.faceList && t.faceList.length) || (Array.isArray(t.faces) ? t.faces.length : 0);
}

// The target's faces in the selector's current order, with a crop each.
async function listFaces(upload) {
  const order = state.options ? state.options.values.face_selector_order : undefined;
  try {
    const faces = await api.uploadFaces(upload.id, { order });
    return (faces && faces.faces) || [];
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 404)) reportError(err, 'faces');
    return (upload.faces || []).map((f, n) => ({ ...f, crop: `/api/uploads/${upload.id}/faces/${n}.jpg` }));
  }
}

async function reorderFaces() {
  const target = state.target;
  if (!target) return;
  const faces = await listFaces(target);
  if (state.target !== target) return;
  target.faceList = faces;
  state.options.setTarget(target.kind, target.id, faces, target);
}

function describeTarget(t) {
  const parts = [t.kind];
  if (t.width && t.height) parts.push(`${t.width}×${t.height}`);
  if (t.kind === 'video') {
    if (t.frames) parts.push(`${t.frames} frames`);
    if (t.duration_s) parts.push(`${Number(t.duration_s).toFixed(1)} s`);
    if (t.has_audio) parts.push('audio');
  }
  const faces = targetFaces(t);
  parts.push(faces === 1 ? '1 face' : faces ? `${faces} faces` : t.kind === 'video' ? 'no face in the first frame' : 'no face found');
  return parts.join(' · ');
}

function renderTarget() {
  clear(el.targetInfo);
  const t = state.target;
  el.targetInfo.hidden = !t;
  if (!t) return;
  el.targetInfo.append(
    h('img', { src: apiUrl(`/api/uploads/${t.id}/frame`), alt: 'Target' }),
    h('p', { class: `small ${targetFaces(t) ? '' : 'warn'}` }, describeTarget(t)),
  );
}

function wireDrop(zone, input, role) {
  input.addEventListener('change', () => {
    uploadFiles(role, input.files);
    input.value = '';
  });
  zone.addEventListener('dragover', (ev) => {
    ev.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (ev) => {
    ev.preventDefault();
    zone.classList.remove('over');
    uploadFiles(role, ev.dataTransfer && ev.dataTransfer.files);
  });
}

// ---- preview, run, cancel ------------------------------------------------------------------------

function payload() {
  return {
    sources: state.sources.map((s) => s.id),
    target: state.target.id,
    options: state.options ? state.options.requestOptions() : {},
    client: telemetry.client, // its arm of any experiment on a default (docs/experiments.md)
  };
}

function updateActions() {
  // An image target without a face has nothing to swap (a video may show faces after its first frame).
  const faceless = state.target && state.target.kind !== 'video' && !targetFaces(state.target);
  const problem = state.options ? state.options.problem : null;
  const ready =
    state.options && state.sources.length > 0 && state.target && !state.uploading.source && !state.uploading.target &&
    !faceless && !problem;
  const running = state.runner && state.runner.active;
  el.previewBtn.disabled = !ready || state.previewing;
  el.runBtn.disabled = !ready || running;
  el.cancelBtn.hidden = !running;
  el.previewBtn.setAttribute('aria-busy', String(state.previewing));
  if (state.uploading.source || state.uploading.target) el.actionHint.textContent = 'Uploading…';
  else if (!state.sources.length && !state.target) el.actionHint.textContent = 'Upload a source photo and a target to start.';
  else if (!state.sources.length) el.actionHint.textContent = 'Add a source photo.';
  else if (!state.target) el.actionHint.textContent = 'Add a target image or video.';
  else if (faceless) el.actionHint.textContent = 'No face was found in the target; choose another image.';
  else if (problem) el.actionHint.textContent = `Fix ${problem} first.`;
  else if (running) el.actionHint.textContent = 'Job running…';
  else el.actionHint.textContent = '';
}

async function preview({ auto = false } = {}) {
  if (auto && (state.previewing || (state.runner && state.runner.active))) return;
  if (el.previewBtn.disabled) return;
  clearTimeout(state.autoTimer);
  state.options.settle();
  telemetry.action('preview', 'preview', auto ? { value: 'auto' } : {});
  clearMessages();
  state.options.clearErrors();
  state.previewing = true;
  updateActions();
  el.actionHint.textContent = 'Rendering preview…';
  try {
    const body = payload();
    if (state.target.kind === 'video') body.frame = state.options.previewFrame;
    const { blob, headers } = await api.preview(body);
    const swapped = headers.get('X-Faceweave-Faces-Swapped');
    const ms = headers.get('X-Faceweave-Ms');
    const caption = ['Preview'];
    if (swapped !== null) caption.push(`${swapped} face${swapped === '1' ? '' : 's'} swapped`);
    if (ms !== null) caption.push(`${Math.round(Number(ms))} ms`);
    state.viewer.showPreview(blob, caption.join(' · '));
    focusFace(state.target);
    state.autoPreview = true;
    if (!auto) revealStage();
  } catch (err) {
    state.autoPreview = false;
    reportError(err, 'preview');
  } finally {
    state.previewing = false;
    updateActions();
    // The button was disabled while rendering, which drops the keyboard focus: give it back.
    if (document.activeElement === document.body && !auto) el.previewBtn.focus();
  }
}

// On one column the stage sits below the actions; bring it into view when it shows something new.
function revealStage() {
  const stage = $('#stage');
  const r = stage.getBoundingClientRect();
  if (NARROW.matches && (r.top > innerHeight * 0.6 || r.bottom < 0)) {
    // The whole card (its title, the provenance badge and the zoom button), below the sticky actions.
    stage.closest('.viewer').scrollIntoView({ behavior: matchMedia('(prefers-reduced-motion: reduce)').matches ? 'auto' : 'smooth', block: 'start' });
  }
}

async function run() {
  if (el.runBtn.disabled) return;
  state.options.settle();
  telemetry.action('run', 'run');
  clearMessages();
  state.options.clearErrors();
  el.downloadLink.hidden = true;
  clearTimeout(state.autoTimer);
  // A job can take minutes: with the user's permission, its end is also said by a notification.
  if ('Notification' in window && Notification.permission === 'default') Notification.requestPermission().catch(() => {});
  try {
    const job = await api.createJob(payload());
    state.runner.follow(job.id, state.target);
    el.cancelBtn.focus();
  } catch (err) {
    reportError(err, 'job');
  }
  updateActions();
}

async function cancel() {
  telemetry.action('cancel', 'click');
  try {
    await state.runner.cancel();
  } catch (err) {
    reportError(err, 'cancel');
  }
}

const TITLE = document.title;
const ENDED = { done: 'Done', failed: 'Failed', cancelled: 'Cancelled' };

// The tab title and (when allowed and the page is not in view) a notification say that a job ended.
function announceEnd(job) {
  const word = ENDED[job.status] || job.status;
  if (document.visibilityState !== 'visible') {
    document.title = `${word} · ${TITLE}`;
    addEventListener('visibilitychange', () => (document.title = TITLE), { once: true });
    if ('Notification' in window && Notification.permission === 'granted') {
      try {
        new Notification(`faceweave: job ${word.toLowerCase()}`, { body: state.target ? state.target.name || '' : '', tag: 'faceweave-job' });
      } catch {
        // Some browsers allow notifications from a service worker only; the title still says it.
      }
    }
  }
}

// The server names the file after the target (biden.jpg -> biden-faceweave.jpg).
function showDownload(job) {
  el.downloadLink.href = apiUrl(`/api/jobs/${job.id}/result`);
  el.downloadLink.hidden = false;
}

function jobFinished(job) {
  const hadFocus = document.activeElement === el.cancelBtn || document.activeElement === document.body;
  updateActions();
  refreshJobs();
  announceEnd(job);
  if (job.status === 'done') {
    state.autoPreview = false;
    state.viewer.showResult(job);
    if (job.kind !== 'video') jobTarget(job).then(focusFace);
    showDownload(job);
    revealStage();
    if (hadFocus) el.downloadLink.focus();
  } else if (job.status === 'failed') {
    const e = job.error || {};
    reportError(new ApiError(0, e.code || 'internal', e.message || 'The job failed.', e.field), 'job');
  } else if (job.status === 'cancelled') {
    showMessage('The job was cancelled.', 'info');
  }
  if (job.status !== 'done' && hadFocus) el.runBtn.focus();
}

async function refreshJobs() {
  try {
    const { jobs } = await api.jobs(10);
    renderJobList(el.jobList, jobs || [], {
      onShow: showJob,
      onReuse: reuseJob,
      describe: (o) => (state.options ? state.options.describe(o) : ''),
    });
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 404)) reportError(err, 'jobs');
  }
}

async function showJob(id) {
  telemetry.action('job_list', 'open');
  try {
    const job = await api.job(id);
    if (job.status === 'done') {
      state.autoPreview = false;
      state.viewer.showResult(job);
      if (job.kind !== 'video') jobTarget(job).then(focusFace);
      showDownload(job);
      revealStage();
    } else if (job.status === 'queued' || job.status === 'running') {
      state.runner.follow(job.id, null);
      updateActions();
    }
  } catch (err) {
    reportError(err, 'job');
  }
}

// A job's photos and options back into the form (its uploads must still be on the server).
async function reuseJob(job) {
  telemetry.action('job_list', 'click', { value: 'reuse' });
  clearMessages();
  const ok = await restoreInputs({ sources: job.sources, target: job.target, options: job.options || {} });
  if (!ok) showMessage('The photos of this job are no longer on the server; upload them again.', 'warning');
  else $('#sources-title').scrollIntoView({ block: 'nearest' });
}

// ---- what survives a reload ----------------------------------------------------------------------

// The upload ids and changed options are kept in this browser's session storage, so a reload (or a
// phone that dropped the tab) comes back to the same form. Uploads the server no longer has are dropped.
function saveSession() {
  if (state.restoring || !state.options) return;
  const session = {
    sources: state.sources.map((s) => s.id),
    target: state.target ? state.target.id : null,
    options: state.options.requestOptions({ all: true }),
  };
  try {
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  } catch {
    // No storage (private mode): nothing survives a reload.
  }
}

function loadSession() {
  try {
    const s = JSON.parse(sessionStorage.getItem(SESSION_KEY) || 'null');
    return s && typeof s === 'object' ? s : null;
  } catch {
    return null;
  }
}

async function fetchUpload(id) {
  try {
    return await api.getUpload(id);
  } catch {
    return null;
  }
}

// Puts uploads and options into the form; false when none of the sources or not the target exists.
async function restoreInputs({ sources = [], target = null, options = {} }) {
  state.restoring = true;
  try {
    const [found, t] = await Promise.all([Promise.all(sources.map(fetchUpload)), target ? fetchUpload(target) : null]);
    const kept = found.filter((u) => u && u.kind !== 'video');
    if (state.options) state.options.setValues(options);
    if (!kept.length && !t) return false;
    state.sources = [];
    clear(el.sourceThumbs);
    for (const u of kept) {
      const pending = h('li', { class: 'thumb pending' });
      el.sourceThumbs.append(pending);
      addSource(u, pending, u.name);
    }
    if (t) await setTarget(t);
    return kept.length === sources.length && Boolean(t) === Boolean(target);
  } finally {
    state.restoring = false;
    saveSession();
    updateActions();
  }
}

// ---- connection ----------------------------------------------------------------------------------

// The top bar says whether the server still answers (checked every 10 s while the page is in view).
async function watchServer() {
  if (!state.config || document.visibilityState !== 'visible') return;
  let up = false;
  try {
    up = (await fetch('/healthz', { cache: 'no-store' })).ok;
  } catch {
    up = false;
  }
  el.serverState.textContent = up
    ? `faceweave ${state.config.version || ''} · connected`
    : 'Not connected: the server does not answer (is faceweave serve still running?)';
  el.serverState.dataset.state = up ? 'live' : 'off';
}

// ---- paste ---------------------------------------------------------------------------------------

// A pasted image goes to the drop zone that has the focus; else to the sources while there are none,
// else to the target.
function pasted(ev) {
  const files = Array.from((ev.clipboardData && ev.clipboardData.files) || []).filter(
    (f) => f.type.startsWith('image/') || f.type.startsWith('video/'),
  );
  if (!files.length) return;
  const t = ev.target;
  if (t instanceof HTMLInputElement && ['text', 'number', 'password'].includes(t.type)) return;
  ev.preventDefault();
  let role = state.sources.length ? 'target' : 'source';
  if (el.sourceDrop.contains(document.activeElement)) role = 'source';
  else if (el.targetDrop.contains(document.activeElement)) role = 'target';
  telemetry.action(role, 'drop', { value: 'paste' });
  uploadFiles(role, files);
}

// ---- start ---------------------------------------------------------------------------------------

state.viewer = new Viewer({
  onCompare: (percent) => telemetry.action('compare', 'change', { number: percent }),
  onZoom: (on) => telemetry.action('compare', 'toggle', { value: on ? 'on' : 'off' }),
});
state.runner = new JobRunner({
  onUpdate: () => updateActions(),
  onFinish: jobFinished,
  onError: (err) => reportError(err, 'job'),
});

wireDrop(el.sourceDrop, el.sourceInput, 'source');
wireDrop(el.targetDrop, el.targetInput, 'target');
el.previewBtn.addEventListener('click', preview);
el.runBtn.addEventListener('click', run);
el.cancelBtn.addEventListener('click', cancel);
el.downloadLink.addEventListener('click', () => telemetry.action('result', 'download'));
el.jobsRefresh.addEventListener('click', () => {
  telemetry.action('job_list', 'click', { value: 'refresh' });
  refreshJobs();
});
// Dropping a file anywhere else must not navigate away from the workbench.
addEventListener('dragover', (ev) => ev.preventDefault());
addEventListener('drop', (ev) => ev.preventDefault());
addEventListener('paste', pasted);
setInterval(watchServer, 10_000);

telemetry.page('workbench');
updateActions();
start();
