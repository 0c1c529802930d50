// thread-page.js runs the members' thread page: it asks once for an API key (kept in this
// browser), shows the thread live, records video and voice replies over WHIP with the key and
// posts text replies, each answering the clip and moment chosen with "Reply at".
import { mountRecorder } from './recorder.js';
import { ThreadView, request } from './thread.js';

const KEY = 'parley.apiKey';
const AUTHOR = 'parley.author';
const data = JSON.parse(document.getElementById('parley-data').textContent);
const $ = (id) => document.getElementById(id);

function askKey(message) {
  $('member').hidden = true;
  $('key-form').hidden = false;
  $('key-error').textContent = message || '';
  $('key-error').hidden = !message;
  $('api-key').focus();
}

let opened = false;

$('key-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const key = $('api-key').value.trim();
  localStorage.setItem(KEY, key);
  if (opened) location.reload(); // the page already runs with another key
  else open(key);
});

$('forget-key').addEventListener('click', () => {
  localStorage.removeItem(KEY);
  location.reload();
});

function open(key) {
  opened = true;
  $('key-form').hidden = true;
  const headers = { Authorization: `Bearer ${key}` };
  const base = `/api/v1/threads/${encodeURIComponent(data.thread_id)}`;
  $('member').hidden = false;
  const view = new ThreadView($('thread'), {
    load: async () => {
      const [thread, c] = await Promise.all([request(base, { headers }), request(`${base}/comments`, { headers })]);
      return { thread, comments: c.comments };
    },
    events: `${base}/events`,
    headers,
    chip: $('reply-chip'),
    onError: (err) => err.status === 401 && askKey('That API key was not accepted. Check it and paste it again.'),
  });
  view.start();
  mountRecorder({
    token: key, whip_url: data.whip_url, kind: 'any', max_duration_s: 0, limited: false,
    params: () => ({ thread_id: data.thread_id, ...view.replyParams() }),
    onStarted: () => view.refresh(),
    onRecorded: () => view.refresh(),
    onSent: () => view.setTarget(null),
  });
  setupComments(base, headers, view);
}

function setupComments(base, headers, view) {
  const author = $('comment-author');
  author.value = localStorage.getItem(AUTHOR) || '';
  $('comment-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const t = view.target;
    const body = { author: author.value.trim(), body: $('comment-body').value };
    if (t) Object.assign(body, { clip_id: t.id, at_ms: t.atMS });
    try {
      await request(`${base}/comments`, { method: 'POST', headers, body });
    } catch (err) {
      $('error').textContent = err.message;
      $('error').hidden = false;
      return;
    }
    localStorage.setItem(AUTHOR, body.author);
    $('comment-body').value = '';
    view.setTarget(null);
    view.refresh();
  });
}

const key = localStorage.getItem(KEY);
if (key) open(key);
else askKey();
