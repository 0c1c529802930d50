// recorder-page.js starts the recorder page of a recorder link: the recorder and, beside it,
// the link's thread, whose clips the guest may answer at a moment.
import { mountRecorder } from './recorder.js';
import { ThreadView, request } from './thread.js';

const data = JSON.parse(document.getElementById('parley-data').textContent);
let view = null;

if (data.thread_url) {
  const root = document.getElementById('thread');
  root.hidden = false;
  view = new ThreadView(root, {
    load: async () => ({ thread: await request(data.thread_url) }),
    events: data.events_url,
    chip: document.getElementById('reply-chip'),
    fixedReply: data.reply_to || '',
  });
  view.start();
}

mountRecorder({
  ...data,
  params: () => (view ? view.replyParams() : {}),
  onStarted: () => view && view.refresh(),
  onRecorded: () => view && view.refresh(),
  onSent: () => view && view.setTarget(null),
});
