// A customer's photos and videos for an open claim, sent through the same
// resumable (tus) endpoint as the station's proof, as kind `claim`. The
// page reloads when every file has arrived, so the claim lists them.
const form = (el) => ({
  order: el.dataset.order,
  claim: el.dataset.claim,
  input: el.querySelector('input[type=file]'),
  output: el.querySelector('output'),
  button: el.querySelector('button'),
});

function send(file, { order, claim }, onProgress) {
  return new Promise((resolve, reject) => {
    const upload = new window.tus.Upload(file, {
      endpoint: '/api/v1/uploads/',
      retryDelays: [0, 1000, 3000, 10000],
      chunkSize: 8 * 1024 * 1024,
      metadata: {
        order,
        kind: 'claim',
        claim,
        filename: file.name,
        filetype: file.type,
        captured_at: new Date(file.lastModified || Date.now()).toISOString(),
      },
      onProgress,
      onSuccess: resolve,
      onError: reject,
    });
    upload.start();
  });
}

for (const el of document.querySelectorAll('form.evidence')) {
  el.addEventListener('submit', async (event) => {
    event.preventDefault();
    const f = form(el);
    const files = [...f.input.files];
    f.button.disabled = true;
    try {
      for (const [i, file] of files.entries()) {
        await send(file, f, (sent, total) => {
          const percent = total ? Math.floor((sent / total) * 100) : 0;
          f.output.value = `${i + 1}/${files.length} · ${percent}%`;
        });
      }
      window.location.reload();
    } catch (err) {
      f.output.value = String(err && err.message ? err.message : err);
      f.button.disabled = false;
    }
  });
}
