import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { employerReplyReason, isAutomatedSender, isEmployerSide } from '../../../src/domain/employer-reply.js';

const people = {
  candidateEmail: 'dana.reyes@candidate.example',
  interviewerEmails: ['alice.martin@northwind.example', 'kenji.watanabe@gmail.com'],
};

describe('who counts as the employer side (S1)', () => {
  it.each([
    ["an interviewer's own address", 'alice.martin@northwind.example', null, true, 'interviewer'],
    ['the same address in other case and with spaces', '  Alice.Martin@NORTHWIND.example ', null, true, 'interviewer'],
    ["a colleague at an interviewer's company domain", 'hr-team@northwind.example', null, true, 'interviewer_domain'],
    ['an interviewer on free mail', 'kenji.watanabe@gmail.com', null, true, 'interviewer'],
    ["someone else on the free-mail interviewer's domain", 'someone.else@gmail.com', null, false, 'unknown_sender'],
    ['a subdomain of the company is a different domain', 'x@mail.northwind.example', null, false, 'unknown_sender'],
    ['an unknown sender', 'recruiter@agency.example', null, false, 'unknown_sender'],
    ['an unknown sender the partner vouches for', 'recruiter@agency.example', true, true, 'stated_by_partner'],
    ['fromEmployer false does not undo an interviewer', 'alice.martin@northwind.example', false, true, 'interviewer'],
    ["the candidate's own address", 'Dana.Reyes@Candidate.example', null, false, 'candidate'],
    ['the candidate, even if the partner says employer', 'dana.reyes@candidate.example', true, false, 'candidate'],
    ['mailer-daemon at the company', 'MAILER-DAEMON@northwind.example', null, false, 'automated_sender'],
    ['postmaster at the company', 'postmaster@northwind.example', null, false, 'automated_sender'],
    ['noreply', 'noreply@northwind.example', null, false, 'automated_sender'],
    ['no-reply with a tag', 'no-reply+jobs@northwind.example', null, false, 'automated_sender'],
    ['do-not-reply', 'do-not-reply@northwind.example', null, false, 'automated_sender'],
    ['donotreply', 'DoNotReply@northwind.example', null, false, 'automated_sender'],
    ['bounces+ VERP address', 'bounces+12345@northwind.example', null, false, 'automated_sender'],
    ['mailer-daemon even when the partner vouches', 'mailer-daemon@northwind.example', true, false, 'automated_sender'],
    ['a person whose name starts like a machine', 'noreen@northwind.example', null, true, 'interviewer_domain'],
    ['postmaster-general as a person is still refused (prefix rule)', 'postmaster.general@northwind.example', null, false, 'automated_sender'],
  ] as const)('%s', (_name, fromEmail, fromEmployer, expected, reason) => {
    expect(employerReplyReason({ fromEmail, fromEmployer }, people)).toEqual({ fromEmployer: expected, reason });
  });

  it("the candidate's own domain never makes a stranger the employer", () => {
    const insider = { candidateEmail: 'dana@northwind.example', interviewerEmails: ['alice@northwind.example'] };
    expect(isEmployerSide({ fromEmail: 'bob@northwind.example' }, insider)).toBe(false);
    expect(isEmployerSide({ fromEmail: 'alice@northwind.example' }, insider)).toBe(true);
  });

  it('property: an automated local part never counts, whatever the domain or the partner says', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('mailer-daemon', 'MAILER-DAEMON', 'postmaster', 'noreply', 'no-reply', 'do-not-reply', 'donotreply'),
        fc.constantFrom('northwind.example', 'gmail.com', 'candidate.example'),
        fc.option(fc.boolean()),
        (local, domain, vouched) => {
          expect(isAutomatedSender(`${local}@${domain}`)).toBe(true);
          expect(isEmployerSide({ fromEmail: `${local}@${domain}`, fromEmployer: vouched }, people)).toBe(false);
        },
      ),
    );
  });
});
