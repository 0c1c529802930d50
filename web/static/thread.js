// thread.js shows a thread: its clips in creation order with replies nested under the clip they
// answer (text replies too), each clip's status kept live from the server's event stream, a
// "Reply at" button per clip that makes the next recording answer that moment, and "Play all",
// which plays the thread's finished clips in order at a chosen speed.
import './player.js';

const STATUS = {
  recording: 'Recording…', processing: 'Processing…', ready: 'Ready',
  failed: 'Could not be processed', interrupted: 'Ready (cut short)',
};
const PLAYABLE = ['ready', 'interrupted'];
const SPEEDS = [1, 1.5, 2];
const RETRY_MS = 2000;

// clock formats milliseconds as m:ss.
export function clock(ms) {
  const s = Math.max(0, Math.floor((ms || 0) / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

function el(tag, attrs = {}, text = '') {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text) e.textContent = text;
  return e;
}

// HTTPError is a failed request; code is the server's error code when it sent one.
export class HTTPError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function httpError(res) {
  let code = '', message = `The server answered ${res.status}.`;
  try {
    ({ code, message } = (await res.json()).error);
  } catch {
    // not the JSON error shape
  }
  return new HTTPError(res.status, code, message);
}

// request sends a request and decodes the JSON answer, or throws an HTTPError.
export async function request(url, { headers = {}, method = 'GET', body } = {}) {
  const init = { method, headers: { ...headers }, cache: 'no-store' };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(url, init);
  if (!res.ok) throw await httpError(res);
  return res.json();
}

// streamEvents reads Server-Sent Events with fetch (an EventSource cannot send an Authorization
// header) and calls onEvent for each "thread" event until the stream ends.
export async function streamEvents(url, headers, onEvent) {
  const res = await fetch(url, { headers, cache: 'no-store' });
  if (!res.ok) throw await httpError(res);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += value.replace(/\r\n?/g, '\n');
    let end;
    while ((end = buf.indexOf('\n\n')) >= 0) {
      if (/^event: thread$/m.test(buf.slice(0, end))) onEvent();
      buf = buf.slice(end + 2);
    }
  }
}

function describe(c, n) {
  return `#${n} ${c.title || (c.kind === 'audio' ? 'Voice message' : 'Video message')}`;
}

// playerKey changes when a clip's player must be given the clip again.
function playerKey(c) {
  return [c.status, ...Object.keys(c.media || {}).filter((k) => c.media[k])].join(' ');
}

// ThreadView renders a thread into root. opts: load() resolving to {thread, comments}; events
// (URL of the thread's event stream) and headers for it; chip (element showing the reply
// target); fixedReply (a clip every recording answers: no reply buttons); onError(err).
export class ThreadView {
  constructor(root, opts) {
    this.root = root;
    this.opts = opts;
    this.nodes = new Map();
    this.order = [];
    this.target = null;
    this.loading = null;
    this.again = false;
    this.playing = null;
    this.#skeleton();
  }

  #skeleton() {
    this.title = el('h2', {}, 'Conversation');
    this.message = el('p', { class: 'status', role: 'status' }, 'Loading the conversation…');
    this.playButton = el('button', { type: 'button', class: 'secondary' }, 'Play all');
    this.speed = el('select', { 'aria-label': 'Speed' });
    this.speed.append(...SPEEDS.map((s) => new Option(`${s}×`, String(s))));
    const bar = el('div', { class: 'thread-bar' });
    bar.append(this.playButton, this.speed);
    this.list = el('div', { class: 'clips' });
    this.loose = el('ul', { class: 'comments' });
    this.root.replaceChildren(this.title, bar, this.message, this.list, this.loose);
    this.playButton.addEventListener('click', () => (this.playing ? this.stopAll() : this.playAll()));
    this.speed.addEventListener('change', () => this.#applySpeed());
    this.list.addEventListener('ended', (e) => this.#ended(e.target), true);
  }

  // start loads the thread and follows its changes.
  start() {
    this.refresh();
    this.#watch();
  }

  async #watch() {
    for (;;) {
      try {
        await streamEvents(this.opts.events, this.opts.headers || {}, () => this.refresh());
      } catch (err) {
        if (err instanceof HTTPError && err.status < 500) return this.#fail(err);
      }
      await new Promise((r) => setTimeout(r, RETRY_MS));
      this.refresh();
    }
  }

  // refresh reloads the thread; calls while a load runs coalesce into one more load.
  async refresh() {
    if (this.loading) {
      this.again = true;
      return this.loading;
    }
    this.loading = this.#load();
    await this.loading;
    this.loading = null;
    if (this.again) {
      this.again = false;
      await this.refresh();
    }
  }

  async #load() {
    try {
      const { thread, comments } = await this.opts.load();
      this.render(thread, comments || []);
    } catch (err) {
      this.#fail(err);
    }
  }

  #fail(err) {
    this.message.hidden = false;
    this.message.textContent = err instanceof HTTPError ? err.message : 'Could not load the conversation. Retrying…';
    this.root.dataset.error = err instanceof HTTPError ? String(err.status) : 'network';
    if (this.opts.onError) this.opts.onError(err);
  }

  render(thread, comments) {
    this.title.textContent = thread.title || 'Conversation';
    delete this.root.dataset.error;
    this.message.hidden = thread.clips.length > 0;
    this.message.textContent = 'No clips yet. Record the first one.';
    for (const c of thread.clips) this.#update(this.nodes.get(c.id) || this.#add(c), c);
    this.#removeGone(new Set(thread.clips.map((c) => c.id)));
    this.#comments(comments);
    this.root.dataset.clips = String(this.order.length);
    if (this.opts.fixedReply) this.#showFixedReply();
  }

  // #add makes a clip's node and puts it last under its parent: clips come in creation
  // order, so a node never moves (moving a media element would pause it).
  #add(c) {
    const n = this.nodes.size + 1;
    const node = { n, label: describe(c, n), key: '' };
    node.article = el('article', { class: 'clip', 'data-clip-id': c.id });
    const head = el('header');
    node.status = el('span', { class: 'badge' });
    head.append(el('strong', {}, node.label), ' ');
    if (c.reply_to && c.reply_at_ms != null) head.append(el('span', { class: 'at' }, `at ${clock(c.reply_at_ms)}`), ' ');
    head.append(node.status);
    node.player = el('parley-player');
    node.comments = el('ul', { class: 'comments' });
    node.replies = el('div', { class: 'replies' });
    node.article.append(head, node.player, this.#actions(c, node), node.comments, node.replies);
    const parent = c.reply_to && this.nodes.get(c.reply_to);
    (parent ? parent.replies : this.list).append(node.article);
    this.nodes.set(c.id, node);
    this.order.push(c.id);
    node.player.addEventListener('pause', () => node.pending && this.#update(node, node.pending));
    return node;
  }

  #actions(c, node) {
    const bar = el('div', { class: 'clip-actions' });
    if (this.opts.fixedReply) return bar;
    const reply = el('button', { type: 'button', class: 'secondary' }, 'Reply at 0:00');
    const label = () => { reply.textContent = `Reply at ${clock(node.player.currentTime * 1000)}`; };
    for (const ev of ['timeupdate', 'seeked', 'loadeddata']) node.player.addEventListener(ev, label);
    reply.addEventListener('click', () => this.setTarget({ id: c.id, label: node.label, atMS: Math.round(node.player.currentTime * 1000) }));
    bar.append(reply);
    return bar;
  }

  // #update shows a clip's status and gives its player the clip when renditions changed,
  // but not in the middle of playback: then it waits for a pause.
  #update(node, c) {
    node.clip = c;
    node.article.dataset.status = c.status;
    node.status.textContent = STATUS[c.status] || c.status;
    const key = playerKey(c);
    if (key === node.key) return;
    if (!node.player.paused) {
      node.pending = c;
      return;
    }
    node.pending = null;
    node.key = key;
    node.player.peaks = c.kind === 'audio' && c.media.waveform ? this.#peaks(c) : null;
    node.player.clip = c;
  }

  // #removeGone empties the nodes of clips no longer in the thread (deleted, or made private);
  // the nodes stay, so the replies nested in them keep their place.
  #removeGone(ids) {
    for (const [id, node] of this.nodes) {
      if (ids.has(id) || node.gone) continue;
      node.gone = true;
      node.article.dataset.status = 'removed';
      node.status.textContent = 'Removed';
      node.player.remove();
      node.article.querySelector('.clip-actions').remove();
      this.order = this.order.filter((o) => o !== id);
    }
  }

  #peaks(c) {
    return c.privacy === 'private' ? c.media.waveform : `/c/${encodeURIComponent(c.id)}/peaks.json`;
  }

  #comments(comments) {
    const byClip = new Map();
    for (const cm of comments) {
      const key = this.nodes.has(cm.clip_id) ? cm.clip_id : '';
      if (!byClip.has(key)) byClip.set(key, []);
      byClip.get(key).push(cm);
    }
    for (const [id, node] of this.nodes) node.comments.replaceChildren(...(byClip.get(id) || []).map(commentItem));
    this.loose.replaceChildren(...(byClip.get('') || []).map(commentItem));
  }

  // setTarget makes the next recording answer target ({id, label, atMS}); null answers nothing.
  // A link that answers one clip has no choice: its chip stays.
  setTarget(target) {
    if (this.opts.fixedReply) return;
    this.target = target;
    const chip = this.opts.chip;
    if (!chip) return;
    chip.hidden = !target;
    if (!target) return chip.replaceChildren();
    const cancel = el('button', { type: 'button', class: 'chip-close', 'aria-label': 'Cancel reply' }, '×');
    cancel.addEventListener('click', () => this.setTarget(null));
    chip.replaceChildren(el('span', {}, `Replying to ${target.label} at ${clock(target.atMS)}`), ' ', cancel);
    chip.scrollIntoView({ block: 'nearest' });
  }

  #showFixedReply() {
    const node = this.nodes.get(this.opts.fixedReply);
    const chip = this.opts.chip;
    if (!node || !chip) return;
    chip.hidden = false;
    chip.textContent = `Your recording answers ${node.label}`;
  }

  // replyParams are the WHIP query parameters of the current reply target.
  replyParams() {
    if (!this.target) return {};
    return { reply_to: this.target.id, reply_at_ms: String(this.target.atMS) };
  }

  // playAll plays the finished clips one after another from the first, at the chosen speed.
  playAll() {
    const queue = this.order.map((id) => this.nodes.get(id)).filter((n) => PLAYABLE.includes(n.clip.status) && n.player.media);
    if (!queue.length) return;
    this.playing = { queue, i: 0 };
    this.playButton.textContent = 'Stop playing';
    this.#playCurrent();
  }

  stopAll() {
    const p = this.playing;
    this.playing = null;
    this.playButton.textContent = 'Play all';
    if (p && p.queue[p.i]) {
      p.queue[p.i].article.classList.remove('now-playing');
      p.queue[p.i].player.pause();
    }
  }

  #playCurrent() {
    const node = this.playing.queue[this.playing.i];
    node.article.classList.add('now-playing');
    node.article.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
    node.player.seek(0);
    this.#applySpeed();
    node.player.play().catch(() => this.stopAll());
  }

  #applySpeed() {
    const p = this.playing;
    const m = p && p.queue[p.i].player.media;
    if (m) m.playbackRate = m.defaultPlaybackRate = Number(this.speed.value);
  }

  #ended(player) {
    const p = this.playing;
    if (!p || p.queue[p.i].player !== player) return;
    p.queue[p.i].article.classList.remove('now-playing');
    if (++p.i >= p.queue.length) return this.stopAll();
    this.#playCurrent();
  }
}

function commentItem(cm) {
  const li = el('li', { class: 'comment', 'data-comment-id': cm.id });
  if (cm.at_ms != null) li.append(el('span', { class: 'at' }, `at ${clock(cm.at_ms)}`), ' ');
  li.append(el('strong', {}, cm.author || 'Someone'), ': ', el('span', {}, cm.body));
  return li;
}
