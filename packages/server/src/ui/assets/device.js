// Sekisho approvals (the authentication device app). Server-rendered pages; this script adds what
// needs a browser: the service worker (offline shell, push notifications), the live channel that
// refreshes the list, the countdown, and the passkey prompt before an approval is posted.
(function () {
  'use strict';
  var live = document.getElementById('device-live');
  if ('serviceWorker' in navigator) navigator.serviceWorker.register('/device/sw.js', { scope: '/device' }).catch(function () {});
  if (!live) return;
  var page = live.getAttribute('data-page');

  // Live channel: a new request or one settled elsewhere reloads the page (the server renders it).
  // Not once the page is leaving: the decision this page posts is itself announced as `settled`,
  // and a reload then would cancel the post's answer ("Allowed") for the request page again,
  // which says it was already decided; on the list it would swallow the tap on a request.
  var leaving = false;
  if (window.EventSource && page !== 'outcome') {
    var source = new EventSource('/device/events');
    window.addEventListener('beforeunload', function () { leaving = true; source.close(); });
    var reload = function (event) {
      if (leaving) return;
      var message = {};
      try { message = JSON.parse(event.data); } catch (e) { return; }
      if (page === 'list' || message.requestId === live.getAttribute('data-request')) { source.close(); location.reload(); }
    };
    source.addEventListener('request', function (event) { if (page === 'list') reload(event); });
    source.addEventListener('settled', reload);
    // After the stream dropped and came back, something may have arrived meanwhile: read the list again.
    var dropped = false;
    source.addEventListener('error', function () { dropped = true; });
    source.addEventListener('open', function () { if (dropped && page === 'list') { source.close(); location.reload(); } });
  }

  // Countdown to the request's expiry; at zero the page reloads (and says it expired).
  var left = document.getElementById('time-left');
  if (left) {
    var expires = Date.parse(left.getAttribute('data-expires'));
    var prefix = left.textContent.replace(/[0-9:]+\s*$/, '');
    var tick = function () {
      var s = Math.max(0, Math.floor((expires - Date.now()) / 1000));
      left.textContent = prefix + Math.floor(s / 60) + ':' + String(s % 60).padStart(2, '0');
      if (s === 0) { clearInterval(timer); setTimeout(function () { location.reload(); }, 1000); }
    };
    var timer = setInterval(tick, 1000);
  }

  // Approve = the form's own submit (Deny has its own formaction and no passkey): ask for the
  // passkey first, then post the decision with the assertion.
  var form = document.getElementById('consent-form');
  if (form && page === 'request') {
    var problem = document.createElement('p');
    problem.className = 'alert'; problem.setAttribute('role', 'alert'); problem.hidden = true;
    form.appendChild(problem);
    form.addEventListener('submit', function (event) {
      var submitter = event.submitter;
      if (submitter && submitter.id !== 'consent-allow') return;
      if (form.elements.assertion) return;
      event.preventDefault();
      if (!window.PublicKeyCredential || !window.SekishoWebAuthn) { problem.hidden = false; problem.textContent = 'Passkeys are not available in this browser.'; return; }
      if (submitter) submitter.disabled = true;
      fetch(location.pathname.replace(/\/$/, '') + '/passkey', { method: 'POST', headers: { 'x-csrf-token': form.elements.csrf.value }, credentials: 'same-origin' })
        .then(function (r) { if (!r.ok) throw new Error('options ' + r.status); return r.json(); })
        .then(function (options) { return navigator.credentials.get({ publicKey: window.SekishoWebAuthn.publicKeyFor(options) }); })
        .then(function (credential) {
          var input = document.createElement('input');
          input.type = 'hidden'; input.name = 'assertion';
          input.value = JSON.stringify(window.SekishoWebAuthn.toJSON(credential));
          form.appendChild(input);
          HTMLFormElement.prototype.submit.call(form);
        })
        .catch(function () {
          if (submitter) submitter.disabled = false;
          problem.hidden = false;
          problem.textContent = document.documentElement.lang === 'ja' ? 'パスキーで確認できませんでした。もう一度お試しください。' : 'Your passkey could not confirm this. Try again.';
        });
    });
  }

  // Web Push: asked for only when the person taps the button.
  var push = document.getElementById('device-push');
  var status = document.getElementById('device-push-status');
  if (push && 'PushManager' in window && 'serviceWorker' in navigator) {
    push.hidden = false;
    push.addEventListener('click', function () {
      push.disabled = true;
      Promise.all([fetch('/device/push-key').then(function (r) { return r.json(); }), navigator.serviceWorker.ready, Notification.requestPermission()])
        .then(function (all) {
          if (all[2] !== 'granted') throw new Error('permission');
          return all[1].pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: all[0].publicKey });
        })
        .then(function (subscription) {
          return fetch('/device/push', { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json', 'x-csrf-token': live.getAttribute('data-csrf') }, body: JSON.stringify(subscription) });
        })
        .then(function (r) { if (!r.ok) throw new Error('save'); status.textContent = push.getAttribute('data-done'); })
        .catch(function () { push.disabled = false; status.textContent = push.getAttribute('data-failed'); });
    });
  }
})();
