// Sekisho passkey ceremonies. The page embeds the server's options as JSON
// (<script type="application/json" id="webauthn-options">) and a form to post the result to.
// Without JavaScript or WebAuthn the page still works through its other forms.
(function () {
  'use strict';

  function b64uToBuf(s) {
    s = s.replace(/-/g, '+').replace(/_/g, '/');
    while (s.length % 4) s += '=';
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }
  function bufToB64u(buf) {
    var bytes = new Uint8Array(buf), bin = '';
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }
  function publicKeyFor(o) {
    var pk = Object.assign({}, o, { challenge: b64uToBuf(o.challenge) });
    if (o.user) pk.user = Object.assign({}, o.user, { id: b64uToBuf(o.user.id) });
    ['allowCredentials', 'excludeCredentials'].forEach(function (k) {
      if (o[k]) pk[k] = o[k].map(function (c) { return Object.assign({}, c, { id: b64uToBuf(c.id) }); });
    });
    return pk;
  }
  function toJSON(cred) {
    var r = cred.response, json = {
      id: cred.id, rawId: bufToB64u(cred.rawId), type: cred.type,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      response: { clientDataJSON: bufToB64u(r.clientDataJSON) },
    };
    if (r.attestationObject) {
      json.response.attestationObject = bufToB64u(r.attestationObject);
      json.response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      json.response.authenticatorData = bufToB64u(r.authenticatorData);
      json.response.signature = bufToB64u(r.signature);
      if (r.userHandle) json.response.userHandle = bufToB64u(r.userHandle);
    }
    return json;
  }
  // The device app's approval ceremony uses the same conversions.
  window.SekishoWebAuthn = { publicKeyFor: publicKeyFor, toJSON: toJSON };

  var optionsEl = document.getElementById('webauthn-options');
  var form = document.getElementById('webauthn-form');
  if (!optionsEl || !form || !window.PublicKeyCredential) return;
  var options = JSON.parse(optionsEl.textContent);
  var mode = form.getAttribute('data-mode'); // 'get' | 'create'
  var button = document.getElementById('webauthn-start');
  var status = document.getElementById('webauthn-status');

  function submit(cred) {
    form.elements.credential.value = JSON.stringify(toJSON(cred));
    form.submit();
  }
  function fail(err) {
    if (err && err.name === 'AbortError') return;
    if (status) { status.hidden = false; status.textContent = status.getAttribute('data-failed'); }
    if (button) button.disabled = false;
  }

  var conditional = null;
  if (mode === 'get' && form.hasAttribute('data-autofill') && PublicKeyCredential.isConditionalMediationAvailable) {
    // Autofill: passkeys appear in the username field's suggestions (conditional mediation).
    PublicKeyCredential.isConditionalMediationAvailable().then(function (ok) {
      if (!ok) return;
      conditional = new AbortController();
      // A conditional request fails quietly (no passkey here, or the person typed a password instead).
      navigator.credentials.get({ publicKey: publicKeyFor(options), mediation: 'conditional', signal: conditional.signal })
        .then(submit, function () {});
    });
  }
  if (button) {
    button.hidden = false;
    button.addEventListener('click', function () {
      button.disabled = true;
      if (conditional) conditional.abort();
      var call = mode === 'create'
        ? navigator.credentials.create({ publicKey: publicKeyFor(options) })
        : navigator.credentials.get({ publicKey: publicKeyFor(options) });
      call.then(submit, fail);
    });
  }
})();
