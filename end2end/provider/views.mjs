// HTML pages shaped like FusionAuth's hosted pages (same element ids, labels and messages as its
// default theme: login, registration, "Registration Required", and the logout page with its iframes).

export const esc = (value) => String(value ?? '')
  .replace(/&/g, '&amp;')
  .replace(/</g, '&lt;')
  .replace(/>/g, '&gt;')
  .replace(/"/g, '&quot;')
  .replace(/'/g, '&#39;');

const STYLE = `
  body { font-family: system-ui, sans-serif; background: #f4f6f8; margin: 0; }
  main { max-width: 24rem; margin: 4rem auto; background: #fff; padding: 2rem; border-radius: 6px;
         box-shadow: 0 1px 4px rgba(0,0,0,.15); }
  h1 { font-size: 1.3rem; margin-top: 0; }
  label { display: block; margin: .8rem 0 .2rem; font-size: .9rem; }
  input[type=text], input[type=email], input[type=password] { width: 100%; box-sizing: border-box; padding: .5rem; }
  button { margin-top: 1.2rem; padding: .5rem 1.2rem; background: #0a6cd6; color: #fff; border: 0; border-radius: 4px; }
  .alert.error { background: #fdecea; color: #a01b12; padding: .6rem; border-radius: 4px; }
  .form-row.links { margin-top: 1rem; font-size: .9rem; }
  .note { color: #777; font-size: .75rem; margin-top: 1.5rem; }`;

function page(title, body, head = '') {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>${head}
<style>${STYLE}</style>
</head>
<body>
<main>
${body}
<p class="note">FusionAuth stand-in (development only)</p>
</main>
</body>
</html>
`;
}

const alerts = (errors) => (errors.length === 0 ? '' : `<div class="alert error" role="alert">
${errors.map((e) => `  <p><span>${esc(e)}</span></p>`).join('\n')}
</div>`);

export function loginPage({ action, appName, loginId = '', errors = [], registerUrl }) {
  return page('Login', `<h1>Login${appName ? ` to ${esc(appName)}` : ''}</h1>
${alerts(errors)}
<form action="${esc(action)}" method="POST" class="full" id="login-form">
  <fieldset style="border:0;padding:0;margin:0">
    <label for="loginId">Email</label>
    <input type="text" id="loginId" name="loginId" value="${esc(loginId)}" autocomplete="username" autocapitalize="none" autocorrect="off" spellcheck="false" placeholder="Email" ${loginId ? '' : 'autofocus'}>
    <label for="password">Password</label>
    <input type="password" id="password" name="password" autocomplete="current-password" placeholder="Password" ${loginId ? 'autofocus' : ''}>
  </fieldset>
  <div class="form-row">
    <button type="submit" class="blue button">Submit</button>
  </div>
</form>
${registerUrl ? `<div class="form-row links">Don't have an account? <a href="${esc(registerUrl)}">Create an account</a></div>` : ''}`);
}

export function registerPage({ action, appName, values = {}, errors = [] }) {
  const field = (id, label, type = 'text', autocomplete = 'off') => `    <label for="${id}">${label}</label>
    <input type="${type}" id="${id}" name="${id}" value="${type === 'password' ? '' : esc(values[id])}" autocomplete="${autocomplete}" placeholder="${label}">`;
  return page('Register', `<h1>Register${appName ? ` for ${esc(appName)}` : ''}</h1>
${alerts(errors)}
<form action="${esc(action)}" method="POST" class="full" id="registration-form">
  <fieldset style="border:0;padding:0;margin:0">
${field('email', 'Email', 'text', 'username')}
${field('password', 'Password', 'password', 'new-password')}
${field('firstName', 'First name', 'text', 'given-name')}
${field('lastName', 'Last name', 'text', 'family-name')}
  </fieldset>
  <div class="form-row">
    <button type="submit" class="blue button">Register</button>
  </div>
</form>`);
}

export function messagePage(title, message) {
  return page(title, `<h1>${esc(title)}</h1>\n<p>${esc(message)}</p>`);
}

/** The default theme's oauth2AuthorizedNotRegistered page (messages authorized-not-registered*). */
export function registrationRequiredPage() {
  return messagePage('Registration Required', 'Registration is required to access this application and your account '
    + 'has not been registered for this application. Please complete your registration and try again.');
}

/**
 * The default theme's oauth2Logout page: after 2 seconds a Refresh to `redirectUrl`, and meanwhile
 * every application's logout URL in a 0×0 iframe.
 */
export function logoutPage({ redirectUrl, logoutUrls }) {
  const refresh = redirectUrl ? `\n<meta http-equiv="Refresh" content="2; url=${esc(redirectUrl)}">` : '';
  const frames = logoutUrls.map((url) => `<iframe src="${esc(url)}" style="width:0; height:0; border:0; border:none;"></iframe>`);
  return page('Logout', `<h1>Logging out\u2026</h1>\n${frames.join('\n')}`, refresh);
}
