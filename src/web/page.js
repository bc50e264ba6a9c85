// The candidate's page. It holds no rules of its own: it reads and changes the candidate's
// follow-ups through the public GraphQL API (POST /graphql) with a candidate token, as any
// partner's frontend would, and puts the API's answers into plain words.
//
// The link's secret arrives in the URL's fragment (never sent to a server, so never logged);
// it is posted to /review/session for a token of at most an hour, and posted again to renew it.

const secret = decodeURIComponent(window.location.hash.slice(1));
const statusLine = document.getElementById('status');
const content = document.getElementById('content');

let session = null; // { token, expiresAt, candidateId, linkExpiresAt }
let renewTimer = 0;
let busy = false;

// ---- small helpers ---------------------------------------------------------------------

/** Builds an element; children are nodes or text (never parsed as HTML). */
function h(tag, attributes, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else if (name === 'value') element.value = value;
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

function say(text) {
  statusLine.textContent = text;
}

function wallParts(date, zone) {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
  }).formatToParts(date);
  const get = (type) => Number(parts.find((part) => part.type === type).value);
  return { year: get('year'), month: get('month'), day: get('day'), hour: get('hour') % 24, minute: get('minute') };
}

/** "Monday 9 March, 09:00" in the candidate's zone. */
function when(iso, zone) {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone: zone, weekday: 'long', day: 'numeric', month: 'long', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  }).format(new Date(iso));
}

function day(iso, zone) {
  return new Intl.DateTimeFormat('en-GB', { timeZone: zone, weekday: 'long', day: 'numeric', month: 'long' }).format(new Date(iso));
}

const pad = (n) => String(n).padStart(2, '0');

/** An instant as the value of a datetime-local field, in the zone. */
function toLocalInput(iso, zone) {
  if (!iso) return '';
  const p = wallParts(new Date(iso), zone);
  return `${p.year}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}`;
}

/** A datetime-local value read as wall time in the zone, as an ISO instant. */
function fromLocalInput(value, zone) {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(value);
  if (!match) return null;
  const wall = Date.UTC(+match[1], +match[2] - 1, +match[3], +match[4], +match[5]);
  const offsetAt = (instant) => {
    const p = wallParts(new Date(instant), zone);
    return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute) - instant;
  };
  let instant = wall - offsetAt(wall);
  instant = wall - offsetAt(instant);
  return new Date(instant).toISOString();
}

// ---- session and API -------------------------------------------------------------------

class LinkRefused extends Error {
  constructor(kind) {
    super(kind);
    this.kind = kind;
  }
}

async function exchange() {
  const response = await fetch('/review/session', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ secret }),
    credentials: 'omit',
    cache: 'no-store',
  });
  if (response.status === 404 || response.status === 410 || response.status === 400) {
    const body = await response.json().catch(() => ({}));
    throw new LinkRefused(body.error === 'LINK_EXPIRED' ? 'expired' : body.error === 'LINK_REVOKED' ? 'revoked' : 'unknown');
  }
  if (response.status === 429) throw new Error('Too many attempts to open this page. Wait a minute, then reload.');
  if (!response.ok) throw new Error('The service could not open your page just now. Try again in a moment.');
  session = await response.json();
  scheduleRenewal();
}

/** A new session five minutes before this one ends, while the link itself is still valid. */
function scheduleRenewal() {
  clearTimeout(renewTimer);
  const sessionEnds = Date.parse(session.expiresAt);
  if (Date.parse(session.linkExpiresAt) <= sessionEnds) return;
  const wait = Math.max(10_000, sessionEnds - Date.now() - 5 * 60_000);
  renewTimer = setTimeout(() => exchange().catch(showRefusal), wait);
}

async function api(query, variables, retried = false) {
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${session.token}` },
    body: JSON.stringify({ query, variables }),
    credentials: 'omit',
  });
  const body = await response.json().catch(() => ({}));
  const unauthenticated = response.status === 401 || body.errors?.some((error) => error.extensions?.code === 'UNAUTHENTICATED');
  if (unauthenticated && !retried) {
    await exchange();
    return api(query, variables, true);
  }
  if (!body.data && !body.errors) throw new Error('The service did not answer as expected. Try again in a moment.');
  return body;
}

// ---- what the page reads ---------------------------------------------------------------

// Ten interviews per request keep each answer within the API's query-cost limit; the page reads
// as many requests as the candidate has interviews for.
const PAGE_QUERY = `query CandidatePage($id: ID!, $after: String) {
  candidate(id: $id) {
    id name timezone
    interviews(first: 10, after: $after) { pageInfo { hasNextPage endCursor } edges { node {
      id positionTitle startsAt endsAt timezone status decisionExpectedBy highlights leftOut resourceUrl
      company { name }
      interviewers { id name title topics }
      followUpPlan {
        id status
        steps {
          id kind channel status reason dueAt sentAt late
          recipient { name interviewerId }
          decisions { rule outcome detail }
          message { id status subject body lintFindings { rule level detail } }
        }
      }
    } } }
  }
}`;

const KIND = {
  THANK_YOU: 'Thank-you note',
  CHECK_IN: 'Check-in',
  FINAL_CHECK_IN: 'Last check-in',
  CALL_TASK: 'Reminder to call',
  KEEP_IN_TOUCH: 'Keep-in-touch note',
  RESPOND_TO_CONCERNS: 'Answer to their concerns',
};

const CHANNEL = {
  EMAIL: 'by email',
  SMS: 'by text message',
  LINKEDIN: 'on LinkedIn',
  PHONE: 'by phone',
  HANDWRITTEN: 'as a handwritten card',
};

const STATUS = {
  SCHEDULED: 'Planned',
  AWAITING_APPROVAL: 'Waiting for your approval',
  NEEDS_REVIEW: 'Needs your review',
  QUEUED: 'Going out now',
  SENT: 'Sent',
  FAILED: 'Could not be sent',
  SKIPPED: 'Dropped',
  CANCELLED: 'Cancelled',
};

/** Why a step waits, went or was dropped, from its rule results, in plain words. */
function why(step, plan, interview, zone) {
  const blocking = step.decisions.find((decision) => decision.outcome === 'BLOCK');
  switch (step.status) {
    case 'SENT':
      return `Went ${when(step.sentAt ?? step.dueAt, zone)}${step.late ? ', a little late but within the grace period' : ''}.`;
    case 'QUEUED':
      return 'Everything checked out; it is on its way.';
    case 'FAILED':
      return 'The message could not be delivered.';
    case 'AWAITING_APPROVAL':
      return 'Waits for you: read it below, then approve or discard it.';
    case 'NEEDS_REVIEW':
      return 'Waits for you: the text breaks a writing rule; fix it below, then approve it.';
    case 'SKIPPED':
    case 'CANCELLED':
      if (step.reason === 'discarded') return 'You discarded it.';
      return blocking ? `Dropped: ${blocking.detail}.` : `Dropped (${(step.reason ?? 'no reason given').replaceAll('_', ' ')}).`;
    default:
      break;
  }
  if (plan.status === 'PAUSED') return 'On hold: you paused follow-ups.';
  const at = when(step.dueAt, zone);
  // What holds it, or else the rule that placed it in time.
  const deciding = blocking ?? step.decisions.find((decision) => decision.outcome === 'ADJUST');
  switch (deciding?.rule) {
    case 'T1':
      return `Waits until a little after the interview: ${at}.`;
    case 'T3':
      if (step.kind === 'CHECK_IN' && interview.decisionExpectedBy) {
        return `Waits for the decision date you gave (${day(interview.decisionExpectedBy, zone)}): ${at}.`;
      }
      return `Waits for the date they said they would call back: ${at}.`;
    case 'T4':
      return step.kind === 'FINAL_CHECK_IN'
        ? `Waits some days after the check-in: ${at}.`
        : `Waits a few days so they have time to decide: ${at}.`;
    case 'T2':
      return `Waits for business hours where ${step.recipient.name} is: ${at}.`;
    case 'T5':
      return `Waits so your messages to ${step.recipient.name} are spaced out: ${at}.`;
    case 'APPROVAL':
      return `Will wait for your approval when it is written: ${at}.`;
    case undefined:
      return `Goes ${at}.`;
    default:
      return `Waits: ${deciding.detail}; ${at}.`;
  }
}

// ---- rendering -------------------------------------------------------------------------

let view = null; // the last answer of PAGE_QUERY

/** At most this many pages of interviews (500 interviews) are read for one view. */
const MAX_INTERVIEW_PAGES = 50;

async function load() {
  let candidate = null;
  let after = null;
  for (let page = 0; page < MAX_INTERVIEW_PAGES; page += 1) {
    const result = await api(PAGE_QUERY, { id: session.candidateId, after });
    if (!result.data?.candidate) throw new Error(result.errors?.[0]?.message ?? 'Your page could not be read.');
    const { interviews } = result.data.candidate;
    candidate = candidate ?? { ...result.data.candidate, interviews: { edges: [] } };
    candidate.interviews.edges.push(...interviews.edges);
    if (!interviews.pageInfo.hasNextPage) break;
    after = interviews.pageInfo.endCursor;
  }
  view = candidate;
}

function render() {
  const zone = view.timezone ?? view.interviews.edges[0]?.node.timezone ?? 'UTC';
  const interviews = view.interviews.edges.map((edge) => edge.node);
  document.getElementById('title').textContent = `Your follow-ups, ${view.name.split(' ')[0]}`;
  const sections = interviews.map((interview) => renderInterview(interview, zone));
  content.replaceChildren(
    h('p', { class: 'meta' }, `Times are shown in your time zone, ${zone}.`),
    ...(interviews.length === 0 ? [h('p', {}, 'There are no interviews on your page yet.')] : sections),
  );
}

function renderInterview(interview, zone) {
  const headingId = `interview-${interview.id}`;
  const plan = interview.followUpPlan;
  const held = plan ? plan.steps.filter((step) => step.message?.status === 'HELD') : [];
  return h('section', { class: 'interview', 'aria-labelledby': headingId },
    h('h2', { id: headingId, tabindex: '-1' }, `${interview.positionTitle} at ${interview.company.name}`),
    h('p', { class: 'meta' }, `Interview ${interview.status === 'CANCELLED' ? '(cancelled) ' : ''}${when(interview.startsAt, zone)}, with ${interview.interviewers.map((person) => person.name).join(', ')}.`),
    plan ? renderPlanState(interview, plan) : h('p', {}, 'No follow-ups are planned for this interview.'),
    held.length > 0 ? h('h3', {}, 'Messages waiting for you') : null,
    held.map((step) => renderHeld(interview, plan, step)),
    plan ? [h('h3', {}, 'Your plan'), renderTimeline(interview, plan, zone)] : null,
    interview.status === 'CANCELLED' ? null : renderDebrief(interview, zone),
  );
}

function renderPlanState(interview, plan) {
  const words = { ACTIVE: 'Follow-ups are on.', PAUSED: 'Follow-ups are paused: nothing goes out until you resume them.', COMPLETED: 'All follow-ups are done.', CANCELLED: 'Follow-ups were stopped.' };
  const errorId = `plan-error-${plan.id}`;
  const button = plan.status === 'ACTIVE'
    ? h('button', { type: 'button', class: 'secondary', 'aria-describedby': errorId, onclick: () => planAction(interview, plan, 'pause') }, 'Pause follow-ups')
    : plan.status === 'PAUSED'
      ? h('button', { type: 'button', 'aria-describedby': errorId, onclick: () => planAction(interview, plan, 'resume') }, 'Resume follow-ups')
      : null;
  return h('div', { class: 'plan-state' }, h('p', {}, words[plan.status] ?? ''), button, h('p', { class: 'error', id: errorId }));
}

function renderTimeline(interview, plan, zone) {
  return h('ol', { class: 'timeline' }, plan.steps.map((step) => {
    const done = step.status === 'SENT';
    const dropped = step.status === 'SKIPPED' || step.status === 'CANCELLED';
    const yours = step.status === 'AWAITING_APPROVAL' || step.status === 'NEEDS_REVIEW';
    const to = step.recipient.interviewerId ? `to ${step.recipient.name}` : 'for you';
    return h('li', { class: done ? 'done' : dropped ? 'dropped' : yours ? 'yours' : null },
      h('span', { class: 'when' }, when(done ? step.sentAt ?? step.dueAt : step.dueAt, zone)),
      h('span', {}, `${KIND[step.kind] ?? step.kind} ${to} ${CHANNEL[step.channel] ?? ''} `),
      h('span', { class: 'badge' }, STATUS[step.status] ?? step.status),
      h('p', { class: 'why' }, why(step, plan, interview, zone)),
      step.decisions.length > 0
        ? h('details', {}, h('summary', {}, 'The rules behind this'),
          h('ul', { class: 'rules' }, step.decisions.map((decision) => h('li', {}, `${decision.rule}: ${decision.detail}`))))
        : null,
    );
  }));
}

function fieldBlock(id, label, control, hint) {
  const hintId = hint ? `${id}-hint` : null;
  const errorId = `${id}-error`;
  control.id = id;
  control.setAttribute('aria-describedby', [hintId, errorId].filter(Boolean).join(' '));
  return h('div', { class: 'field' },
    h('label', { for: id }, label),
    hint ? h('span', { class: 'hint', id: hintId }, hint) : null,
    control,
    h('p', { class: 'error', id: errorId }),
  );
}

function renderHeld(interview, plan, step) {
  const message = step.message;
  const base = `m-${message.id}`;
  const headingId = `${base}-heading`;
  const findingsId = `${base}-findings`;
  const subject = h('input', { type: 'text', name: 'subject', value: message.subject, maxlength: 300, 'data-field': 'subject' });
  const body = h('textarea', { name: 'body', class: 'letter', 'data-field': 'body' });
  body.value = message.body;
  const findings = message.lintFindings.length > 0
    ? h('ul', { class: 'findings', id: findingsId }, message.lintFindings.map((finding) =>
      h('li', { class: `level-${finding.level.toLowerCase()}` }, `${finding.level === 'ERROR' ? 'Must fix' : 'Worth a look'} (${finding.rule}): ${finding.detail}`)))
    : h('p', { class: 'hint', id: findingsId }, 'No writing problems found.');
  const bodyField = fieldBlock(`${base}-body`, 'Message', body);
  body.setAttribute('aria-describedby', `${findingsId} ${base}-body-error`);
  bodyField.insertBefore(findings, bodyField.querySelector('.error'));
  const form = h('form', {
    class: 'held', 'aria-labelledby': headingId, novalidate: true,
    onsubmit: (event) => { event.preventDefault(); approve(interview, message, form); },
  },
    h('h4', { id: headingId }, `${KIND[step.kind] ?? step.kind} to ${step.recipient.name} ${CHANNEL[step.channel] ?? ''}`),
    fieldBlock(`${base}-subject`, 'Subject', subject),
    bodyField,
    h('div', { class: 'actions' },
      h('button', { type: 'submit' }, 'Approve'),
      h('button', { type: 'button', class: 'secondary', onclick: () => discard(interview, message, form) }, 'Discard'),
    ),
    h('p', { class: 'error', id: `${base}-form-error`, 'data-field': 'form' }),
  );
  return form;
}

function renderDebrief(interview, zone) {
  const base = `d-${interview.id}`;
  const decision = h('input', { type: 'datetime-local', name: 'decisionExpectedBy', value: toLocalInput(interview.decisionExpectedBy, zone), 'data-field': 'decisionExpectedBy' });
  const highlights = h('textarea', { name: 'highlights', 'data-field': 'highlights' });
  highlights.value = interview.highlights ?? '';
  const leftOut = h('textarea', { name: 'leftOut', 'data-field': 'leftOut' });
  leftOut.value = interview.leftOut ?? '';
  const resource = h('input', { type: 'url', name: 'resourceUrl', value: interview.resourceUrl ?? '', 'data-field': 'resourceUrl', inputmode: 'url' });
  const topicFields = interview.interviewers.map((person) =>
    fieldBlock(`${base}-topics-${person.id}`, `Topics discussed with ${person.name}`,
      h('input', { type: 'text', name: 'topics', value: person.topics.join(', '), 'data-interviewer': person.id, 'data-field': 'topics' }),
      'Separate topics with commas.'));
  const form = h('form', {
    'aria-labelledby': `${base}-heading`, novalidate: true,
    onsubmit: (event) => { event.preventDefault(); saveDebrief(interview, zone, form); },
  },
    h('h3', { id: `${base}-heading` }, 'Your debrief'),
    h('p', {}, 'What you tell us here shapes the notes: the check-in waits for the decision date, and each note names what you discussed with that person.'),
    fieldBlock(`${base}-decision`, 'Decision expected by', decision, `When they said you would hear back, your time (${zone}).`),
    topicFields,
    fieldBlock(`${base}-highlights`, 'What you want to stress again', highlights, 'A skill or result you want them to remember.'),
    fieldBlock(`${base}-left-out`, 'Something you left out', leftOut, 'A point you meant to make in the interview.'),
    fieldBlock(`${base}-resource`, 'A link worth sending later', resource, 'An article or work sample; the check-in can share it.'),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Save debrief')),
    h('p', { class: 'error', id: `${base}-form-error`, 'data-field': 'form' }),
  );
  return form;
}

// ---- errors next to their fields -------------------------------------------------------

function clearErrors(form) {
  for (const control of form.querySelectorAll('[aria-invalid]')) control.removeAttribute('aria-invalid');
  for (const slot of form.querySelectorAll('.error')) slot.textContent = '';
}

/** Shows an API error next to the field it names (extensions.field), or under the form. */
function showError(form, error, scope) {
  const field = (error.extensions?.field ?? '').replace(/^input\./, '').split('.')[0];
  const control = field ? (scope ?? form).querySelector(`[data-field="${field}"]`) : null;
  const text = error.message.charAt(0).toUpperCase() + error.message.slice(1);
  if (control) {
    control.setAttribute('aria-invalid', 'true');
    document.getElementById(`${control.id}-error`).textContent = text;
    control.focus();
  } else {
    form.querySelector('[data-field="form"]').textContent = text;
  }
  say('Not saved: see the note next to the field.');
}

// ---- actions ---------------------------------------------------------------------------

async function act(work) {
  if (busy) return;
  busy = true;
  try {
    await work();
  } catch (error) {
    if (error instanceof LinkRefused) showRefusal(error);
    else say(error.message);
  } finally {
    busy = false;
  }
}

/** Reads the page again and puts focus back where the candidate was working. */
async function refresh(focusId, message) {
  await load();
  render();
  const target = document.getElementById(focusId);
  if (target) {
    if (!target.hasAttribute('tabindex') && !/^(BUTTON|INPUT|TEXTAREA|A)$/.test(target.tagName)) target.setAttribute('tabindex', '-1');
    target.focus();
  }
  say(message);
}

function planAction(interview, plan, verb) {
  return act(async () => {
    const mutation = verb === 'pause' ? 'pauseFollowUpPlan' : 'resumeFollowUpPlan';
    const result = await api(`mutation ($id: ID!) { ${mutation}(id: $id) { id status } }`, { id: plan.id });
    if (result.errors) {
      document.getElementById(`plan-error-${plan.id}`).textContent = result.errors[0].message;
      say('That did not work: see the note next to the button.');
      return;
    }
    await refresh(`interview-${interview.id}`, verb === 'pause' ? 'Follow-ups paused: nothing goes out until you resume them.' : 'Follow-ups resumed.');
  });
}

function approve(interview, message, form) {
  return act(async () => {
    clearErrors(form);
    const subject = form.querySelector('[data-field="subject"]').value;
    const body = form.querySelector('[data-field="body"]').value;
    const result = await api(
      `mutation ($id: ID!, $subject: String, $body: String) { approveMessage(id: $id, subject: $subject, body: $body) { id status } }`,
      { id: message.id, subject: subject === message.subject ? null : subject, body: body === message.body ? null : body },
    );
    if (result.errors) return showError(form, result.errors[0]);
    await refresh(`interview-${interview.id}`, 'Approved: the message will go at its time.');
  });
}

function discard(interview, message, form) {
  return act(async () => {
    clearErrors(form);
    const result = await api(`mutation ($id: ID!) { discardMessage(id: $id) { id status } }`, { id: message.id });
    if (result.errors) return showError(form, result.errors[0]);
    await refresh(`interview-${interview.id}`, 'Discarded: that message will not be sent.');
  });
}

function saveDebrief(interview, zone, form) {
  return act(async () => {
    clearErrors(form);
    const value = (field) => form.querySelector(`[data-field="${field}"]`).value.trim();
    const input = {};
    const decisionValue = value('decisionExpectedBy');
    const decision = decisionValue ? fromLocalInput(decisionValue, zone) : null;
    if (decision !== interview.decisionExpectedBy && !(decision && interview.decisionExpectedBy && Date.parse(decision) === Date.parse(interview.decisionExpectedBy))) {
      input.decisionExpectedBy = decision;
    }
    for (const [field, current] of [['highlights', interview.highlights], ['leftOut', interview.leftOut], ['resourceUrl', interview.resourceUrl]]) {
      const next = value(field) || null;
      if (next !== (current ?? null)) input[field] = next;
    }
    let changed = 0;
    if (Object.keys(input).length > 0) {
      const result = await api(`mutation ($id: ID!, $input: UpdateInterviewInput!) { updateInterview(id: $id, input: $input) { id } }`, { id: interview.id, input });
      if (result.errors) return showError(form, result.errors[0]);
      changed += 1;
    }
    for (const person of interview.interviewers) {
      const control = form.querySelector(`[data-interviewer="${person.id}"]`);
      const topics = control.value.split(',').map((topic) => topic.trim()).filter(Boolean);
      if (topics.join('\n') === person.topics.join('\n')) continue;
      const result = await api(`mutation ($id: ID!, $input: UpdateInterviewerInput!) { updateInterviewer(id: $id, input: $input) { id } }`, { id: person.id, input: { topics } });
      if (result.errors) return showError(form, result.errors[0], control.closest('.field'));
      changed += 1;
    }
    if (changed === 0) return say('Nothing to save: the debrief is as it was.');
    await refresh(`d-${interview.id}-heading`, 'Debrief saved. The plan below follows it.');
  });
}

// ---- when the link does not open -------------------------------------------------------

function showRefusal(error) {
  clearTimeout(renewTimer);
  if (!(error instanceof LinkRefused)) {
    say(error.message);
    return;
  }
  const titles = {
    expired: 'This link has expired',
    revoked: 'This link has been withdrawn',
    unknown: 'This link does not work',
  };
  const title = titles[error.kind];
  document.title = title;
  document.getElementById('title').textContent = title;
  document.getElementById('intro').textContent = '';
  say('');
  content.replaceChildren(
    h('div', { class: 'notice' },
      h('p', {}, error.kind === 'unknown'
        ? 'The address may be incomplete: open the link exactly as you received it.'
        : 'For your security, links to this page only work for a limited time.'),
      h('p', {}, 'Ask the recruiter who sent it for a new link. Nothing about your follow-ups has changed: notes you approved still go at their time.'),
    ),
  );
  document.getElementById('main').focus();
}

async function start() {
  if (!secret) {
    showRefusal(new LinkRefused('unknown'));
    return;
  }
  try {
    await exchange();
    await load();
    render();
    say('');
  } catch (error) {
    showRefusal(error instanceof LinkRefused ? error : new Error(error.message));
  }
}

start();
