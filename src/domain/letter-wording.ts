// The built-in wording of the letters written to interviewers: several wordings for every
// sentence, so that letters of one panel, and letters of different candidates to one person,
// read as written by hand rather than from one template (seeds 000, 004: "employers recognize
// canned examples"). Every sentence is our own. Which wording a letter takes is decided by
// `chooseVariant`, deterministically per (candidate, recipient, kind).
//
// A letter is paragraphs of slots; a slot is one sentence (a few say two short ones) with its
// wordings, shown only when its condition holds. The thank-you slots each have SIX wordings,
// and panel members take consecutive ones (see chooseVariant): up to six people of one panel
// never share a sentence of ours.

import type { StepKind } from './types.js';

/** What a slot's condition may test: the facts a letter is written from. */
export interface WordingFacts {
  topic: boolean;
  role: boolean;
  highlights: boolean;
  leftOut: boolean;
  /** The check-in opens with the resource (an article or work sample). */
  resource: boolean;
  decision: boolean;
}

export interface WordingSlot {
  id: string;
  when?: (facts: WordingFacts) => boolean;
  /** Mustache text of one or two sentences, rendered against the message context. */
  variants: readonly string[];
}

export interface LetterWording {
  subjects: readonly string[];
  paragraphs: ReadonlyArray<readonly WordingSlot[]>;
  closings: readonly string[];
}

const CLOSINGS = ['Kind regards,', 'Best regards,', 'With best wishes,', 'Warm regards,', 'Sincerely,', 'All the best,'] as const;

const THANK_YOU: LetterWording = {
  subjects: [
    'Thank you for the interview: {{position.title}}',
    'Thank you: {{position.title}} interview',
    'Our conversation about the {{position.title}} role',
    'Thank you for your time: {{position.title}}',
    'Following our {{position.title}} interview',
    'With thanks: the {{position.title}} position',
  ],
  paragraphs: [
    [
      {
        id: 'ty.opening',
        variants: [
          'Thank you for taking the time to meet with me on {{interview.dateInSentence}} to discuss the {{position.title}} position at {{company.name}}.',
          'Thank you for speaking with me on {{interview.dateInSentence}} about the {{position.title}} role at {{company.name}}.',
          'I am grateful for the time you gave me on {{interview.dateInSentence}} to talk about the {{position.title}} opening at {{company.name}}.',
          'Many thanks for our conversation on {{interview.dateInSentence}} about the {{position.title}} position at {{company.name}}.',
          'It was a pleasure to speak with you on {{interview.dateInSentence}} about the {{position.title}} role and the team at {{company.name}}.',
          'Thank you for the interview on {{interview.date}}; I enjoyed learning more about the {{position.title}} role at {{company.name}}.',
        ],
      },
    ],
    [
      {
        id: 'ty.topic',
        when: (facts) => facts.topic,
        variants: [
          'I especially enjoyed our conversation about {{topic}}, which gave me a clearer sense of the work ahead.',
          'Our discussion of {{topic}} stayed with me; it is exactly the kind of work I enjoy.',
          'I found our exchange on {{topic}} particularly interesting, and it has given me plenty to think about.',
          'Talking through {{topic}} with you was the part of the day I enjoyed most.',
          'What you shared about {{topic}} made the challenges of the role much more concrete.',
          'I keep coming back to our discussion of {{topic}}, and to how much there is to build there.',
        ],
      },
      {
        id: 'ty.noTopic',
        when: (facts) => !facts.topic,
        variants: [
          'Hearing how the team works gave me a clearer sense of the role and of what matters at {{company.name}}.',
          'Learning how the team approaches its work made the role much more concrete for me.',
          'I came away with a much better picture of the team and of the challenges ahead.',
          'Our conversation gave me a real sense of how the team works and what it values.',
          'It was good to hear first-hand what the team is working on and where it is heading.',
          'I left with a clear idea of what the role involves and why it matters to {{company.name}}.',
        ],
      },
      {
        id: 'ty.role',
        when: (facts) => facts.role,
        variants: [
          'Hearing your perspective as {{recipient.title}} was especially helpful.',
          'It was useful to hear from you, as {{recipient.title}}, how the team works day to day.',
          'Your view as {{recipient.title}} helped me see how this position fits into the wider team.',
          'I appreciated hearing what you, as {{recipient.title}}, look for in this position.',
          'Learning how you approach your work as {{recipient.title}} gave me a clearer picture of the team.',
          'I valued your account, as {{recipient.title}}, of what success looks like in this role.',
        ],
      },
    ],
    [
      {
        id: 'ty.fit',
        when: (facts) => facts.highlights,
        variants: [
          'I believe {{highlights}} would let me contribute from the start.',
          'I would bring {{highlights}} to the team, and I am keen to put that experience to work.',
          'With {{highlights}}, I am confident I could make a difference early on.',
          'I see a close match between what the role needs and what I bring: {{highlights}}.',
          'The role fits well with what I can offer: {{highlights}}.',
          'I hope my background, in particular {{highlights}}, came across as a good fit for the team.',
        ],
      },
      {
        id: 'ty.interest',
        when: (facts) => !facts.highlights,
        variants: [
          'Our conversation strengthened my interest in the role.',
          'I left the interview even more interested in joining the team.',
          'The conversation confirmed my enthusiasm for this position.',
          'I am more excited about this opportunity than I was before we spoke.',
          'Everything I heard made me keener to join the team.',
          'Our talk left me all the more interested in the position.',
        ],
      },
      {
        id: 'ty.leftOut',
        when: (facts) => facts.leftOut,
        variants: [
          'One thing I did not mention when we spoke: {{leftOut}}.',
          'There is one thing I did not get to mention in the interview: {{leftOut}}.',
          'I also wanted to add one thing I did not mention: {{leftOut}}.',
          'One point I left out of our conversation: {{leftOut}}.',
          'Something I did not mention at the time: {{leftOut}}.',
          'I would like to add one thing I did not say in the interview: {{leftOut}}.',
        ],
      },
      {
        id: 'ty.offer',
        variants: [
          'I am happy to provide anything else that would help as you consider your decision.',
          'If there is anything more I can share, I would be glad to send it.',
          'Should you need any further information from me, I would be glad to send it over.',
          'I would be pleased to answer any further questions you may have.',
          'I can also provide references or examples of my work if that would be useful.',
          'If it would help, I am glad to follow up with more detail on anything we covered.',
        ],
      },
    ],
    [
      {
        id: 'ty.thanks',
        variants: [
          'Thank you again for your time and consideration.',
          'Thank you once more for a thoughtful conversation.',
          'Many thanks again for your time.',
          'I appreciate your time and hope to stay in touch.',
          'Thanks again for meeting with me.',
          'Thank you again for sharing your insight.',
        ],
      },
    ],
  ],
  closings: CLOSINGS,
};

const CHECK_IN: LetterWording = {
  subjects: [
    'Following up on the {{position.title}} interview',
    'Checking in: {{position.title}}',
    'The {{position.title}} position: a short follow-up',
    'Following up: {{position.title}} at {{company.name}}',
    'A follow-up on the {{position.title}} role',
    'Still very interested: {{position.title}}',
  ],
  paragraphs: [
    [
      {
        id: 'ci.resource',
        when: (facts) => facts.resource,
        variants: [
          'I came across an article that made me think of our conversation, and thought you might find it useful: {{resourceUrl}}',
          'Since we spoke, I have been reading more on the subject, and this piece seemed worth sharing with you: {{resourceUrl}}',
          'Here is something related to what we discussed that I thought you might enjoy: {{resourceUrl}}',
          'I wanted to pass along a piece of work that connects to our conversation: {{resourceUrl}}',
          'This may interest you, as it touches on what we talked about: {{resourceUrl}}',
          'While following up on our discussion, I found this and thought of you: {{resourceUrl}}',
        ],
      },
      {
        id: 'ci.research',
        when: (facts) => !facts.resource && facts.topic,
        variants: [
          'Since our conversation, I have been reading more about {{topic}}, and it has only deepened my interest.',
          'I have spent some time since we spoke looking further into {{topic}}, and I would enjoy discussing what I found.',
          'Our exchange sent me off to do more research on {{topic}}, which I have enjoyed.',
          'I have kept thinking about {{topic}} since we met, and have done some further reading on it.',
          'After we spoke, I looked more closely at {{topic}}, and it made the role even more appealing.',
          'I followed up on our conversation with some research of my own into {{topic}}, and it has stayed on my mind.',
        ],
      },
      {
        id: 'ci.wellWishes',
        when: (facts) => !facts.resource && !facts.topic,
        variants: [
          'I hope you are well.',
          'I hope this finds you well.',
          'I hope your week is going well.',
          'I hope all is well with you and the team.',
          'I trust things are going well at {{company.name}}.',
          'I hope the past week has treated you well.',
        ],
      },
    ],
    [
      {
        id: 'ci.reference',
        variants: [
          'I am following up on our conversation on {{interview.dateInSentence}} about the {{position.title}} position at {{company.name}}.',
          'I wanted to follow up on my interview for the {{position.title}} role at {{company.name}} on {{interview.date}}.',
          'I am writing again about the {{position.title}} position at {{company.name}}, which we discussed on {{interview.date}}.',
          'Since we spoke on {{interview.dateInSentence}} I have kept the {{position.title}} role at {{company.name}} very much in mind.',
          'I wanted to check in about the {{position.title}} position at {{company.name}} after our conversation on {{interview.date}}.',
          'I am writing to follow up on the {{position.title}} role at {{company.name}}, which we talked about on {{interview.date}}.',
        ],
      },
      {
        id: 'ci.decision',
        when: (facts) => facts.decision,
        variants: [
          'You mentioned that a decision was expected around {{decision.date}}, so I wanted to reaffirm my interest.',
          'As you expected to decide around {{decision.date}}, I wanted to let you know that I remain very interested.',
          'Knowing that you planned to decide around {{decision.date}}, I wanted to confirm my continued interest.',
          'With your decision expected around {{decision.date}}, I would like to say again how much I would welcome the chance to join.',
          'You said the team hoped to decide around {{decision.date}}; my interest in the role is as strong as ever.',
          'Ahead of the decision you expected around {{decision.date}}, I wanted to restate my interest in the position.',
        ],
      },
      {
        id: 'ci.interest',
        when: (facts) => !facts.decision,
        variants: [
          'I remain very interested in the role and in joining the team.',
          'My interest in the position is as strong as when we spoke.',
          'I wanted to let you know that I am still very keen on this opportunity.',
          'The role remains high on my list, and I would welcome the chance to contribute.',
          'I am still enthusiastic about the position and the team.',
          'I continue to be very interested in joining {{company.name}}.',
        ],
      },
    ],
    [
      {
        id: 'ci.offer',
        variants: [
          'If any further information from me would be helpful, I would be glad to provide it.',
          'If there is anything else you need from me, I am happy to help.',
          'I would be happy to share anything further that would help your decision.',
          'If it would be useful, I can send references or samples of my work.',
          'Should any questions have come up since we spoke, I would be glad to answer them.',
          'I am happy to help with anything else the team may need from me.',
        ],
      },
      {
        id: 'ci.thanks',
        variants: [
          'Thank you for your time.',
          'Many thanks for your time and consideration.',
          'Thank you for considering my application.',
          'I appreciate your time and attention.',
          'Thanks again for everything so far.',
          'I am grateful for your time.',
        ],
      },
    ],
  ],
  closings: CLOSINGS,
};

const FINAL_CHECK_IN: LetterWording = {
  subjects: [
    'Next steps for the {{position.title}} position',
    'The {{position.title}} role: next steps',
    'A last follow-up on the {{position.title}} position',
    'Checking in once more: {{position.title}}',
    'The {{position.title}} position at {{company.name}}',
    'Following up again: {{position.title}}',
  ],
  paragraphs: [
    [
      {
        id: 'fc.resource',
        when: (facts) => facts.resource,
        variants: [
          'I thought you might find this useful, given what we discussed: {{resourceUrl}}',
          'This piece reminded me of our conversation, so I am passing it on: {{resourceUrl}}',
          'Something related to our discussion that I have been reading: {{resourceUrl}}',
          'In case it is of interest, here is a piece that connects to our talk: {{resourceUrl}}',
          'I found this while reading around our conversation and thought of you: {{resourceUrl}}',
          'Here is a piece I came across that touches on what we discussed: {{resourceUrl}}',
        ],
      },
      {
        id: 'fc.topic',
        when: (facts) => !facts.resource && facts.topic,
        variants: [
          'Our conversation about {{topic}} has stayed with me, and I would be excited to contribute to that work.',
          'I have continued to read about {{topic}}, which we touched on when we met, and it keeps the role in my thoughts.',
          'The work on {{topic}} that you described is something I would love to be part of.',
          'I still think often about what you said about {{topic}}.',
          'Thinking back to our talk about {{topic}}, I am as keen as ever to help with that work.',
          'I remain intrigued by the challenges around {{topic}} that we discussed.',
        ],
      },
      {
        id: 'fc.wellWishes',
        when: (facts) => !facts.resource && !facts.topic,
        variants: [
          'I hope all is well.',
          'I hope you have had a good few weeks.',
          'I hope things are going well for you and the team.',
          'I hope this note finds you well.',
          'I trust the past weeks have gone well.',
          'I hope work at {{company.name}} is going well.',
        ],
      },
    ],
    [
      {
        id: 'fc.reference',
        variants: [
          'I am writing once more about the {{position.title}} position at {{company.name}}, for which I interviewed on {{interview.date}}.',
          'I wanted to follow up one last time on the {{position.title}} role at {{company.name}}.',
          'I am getting in touch again about the {{position.title}} position and our conversation on {{interview.date}}.',
          'I am writing a final time about the {{position.title}} opening at {{company.name}}.',
          'I wanted to touch base again regarding the {{position.title}} role we discussed on {{interview.date}}.',
          'This is a short follow-up on my application for the {{position.title}} position at {{company.name}}.',
        ],
      },
      {
        id: 'fc.interest',
        variants: [
          'I remain very interested in the role.',
          'The position still appeals to me a great deal.',
          'I am still very keen to join the team.',
          'My enthusiasm for the role has not changed.',
          'I would still very much like to be part of {{company.name}}.',
          'I continue to see this role as an excellent match.',
        ],
      },
    ],
    [
      {
        id: 'fc.nextSteps',
        variants: [
          'Could you let me know what the next steps are and the expected timeline for a decision?',
          'Would you be able to share where things stand and what the next steps might be?',
          'Could you tell me whether there is an updated timeline for the decision?',
          'May I ask what the next steps in the process will be?',
          'Would you let me know how the process is going and what the next steps will be?',
          'Could you share any update on the timeline and the next steps?',
        ],
      },
      {
        id: 'fc.patience',
        variants: [
          'I understand these processes take time, and I appreciate any update you are able to share.',
          'I know decisions like this can take a while, and I am grateful for any news.',
          'I know the team is busy, so any word at all would be appreciated.',
          'I appreciate that hiring takes time, and thank you for keeping me in mind.',
          'I know there is a lot to weigh, and I am grateful for your patience with my questions.',
          'I understand if things are still being decided, and I value any update you can give.',
        ],
      },
    ],
    [
      {
        id: 'fc.thanks',
        variants: [
          'Thank you for your time and consideration.',
          'Many thanks for all your help so far.',
          'Thank you again for the opportunity.',
          'I appreciate your time, as always.',
          'Thank you for your help throughout the process.',
          'I remain grateful for your time.',
        ],
      },
    ],
  ],
  closings: CLOSINGS,
};

const KEEP_IN_TOUCH: LetterWording = {
  subjects: [
    'Staying in touch after the {{position.title}} interview',
    'Thank you, and staying in touch: {{position.title}}',
    'After the {{position.title}} interview',
  ],
  paragraphs: [
    [
      {
        id: 'kt.thanks',
        variants: [
          'Thank you for letting me know your decision about the {{position.title}} position.',
          'Thank you for telling me how the {{position.title}} search turned out.',
          'I appreciate you letting me know where things landed with the {{position.title}} role.',
        ],
      },
      {
        id: 'kt.grateful',
        variants: [
          'Although I am disappointed, I am grateful for the time you and the team gave me and for everything I learned about {{company.name}}.',
          'It is not the news I hoped for, but I valued the time the team gave me and all I learned about {{company.name}}.',
          'While I am sorry it did not work out, I learned a great deal about {{company.name}} along the way.',
        ],
      },
    ],
    [
      {
        id: 'kt.topic',
        when: (facts) => facts.topic,
        variants: [
          'Our conversation about {{topic}} was a highlight of the process for me.',
          'I especially enjoyed our discussion of {{topic}}.',
          'Talking about {{topic}} with you was the part I will remember best.',
        ],
      },
      {
        id: 'kt.noTopic',
        when: (facts) => !facts.topic,
        variants: [
          'Meeting the team was a highlight of the process for me.',
          'I very much enjoyed getting to know the team.',
          'The conversations with the team were the part I will remember best.',
        ],
      },
    ],
    [
      {
        id: 'kt.future',
        variants: [
          'I would be glad to stay in touch, and I hope our paths cross again if another suitable role opens up.',
          'I would welcome the chance to keep in touch, should another role come up that suits my background.',
          'If a similar opening comes up in the future, I would be delighted to be considered.',
        ],
      },
      {
        id: 'kt.wishes',
        variants: ['I wish you and the team every success.', 'Best of luck to you and the team.', 'I hope the team goes from strength to strength.'],
      },
    ],
  ],
  closings: CLOSINGS,
};

const RESPOND_TO_CONCERNS: LetterWording = {
  subjects: [
    'Following up on your questions about the {{position.title}} position',
    'Your questions about my {{position.title}} application',
    'The {{position.title}} position: answering your questions',
  ],
  paragraphs: [
    [
      {
        id: 'rc.thanks',
        variants: [
          'Thank you for your candid feedback on my application for the {{position.title}} position at {{company.name}}.',
          'Thank you for being open with me about my application for the {{position.title}} role at {{company.name}}.',
          'I appreciate your honest feedback on my application for the {{position.title}} position.',
        ],
      },
      {
        id: 'rc.welcome',
        variants: [
          'I appreciate you sharing your concerns, and I would welcome the chance to address them.',
          'Your points are fair, and I would like the chance to respond to them.',
          'I would be glad to address the questions you raised.',
        ],
      },
    ],
    [
      {
        id: 'rc.examples',
        when: (facts) => facts.topic,
        variants: [
          'Building on our discussion of {{topic}}, I can share concrete examples from my past work that speak to these points.',
          'Picking up from our conversation about {{topic}}, I have examples from earlier roles that bear on this.',
          'As with {{topic}}, which we discussed, I can point to specific work that addresses these points.',
        ],
      },
      {
        id: 'rc.examplesPlain',
        when: (facts) => !facts.topic,
        variants: [
          'I can share concrete examples from my past work that speak to these points.',
          'I have examples from earlier roles that bear directly on this.',
          'I can point to specific work that addresses these points.',
        ],
      },
    ],
    [
      {
        id: 'rc.offer',
        variants: [
          'I would be happy to answer in writing or in a short call at a time that suits you.',
          'I can reply in writing, or talk it through in a brief call whenever convenient.',
          'Whichever you prefer, a written answer or a short call, I am glad to help.',
        ],
      },
      {
        id: 'rc.close',
        variants: ['Thank you again for your openness.', 'Thank you for raising these points with me.', 'I appreciate your frankness.'],
      },
    ],
  ],
  closings: CLOSINGS,
};

/** The kinds written from these wordings (on every channel but SMS; the call task is a note to the candidate). */
export const LETTER_WORDINGS: Readonly<Partial<Record<StepKind, LetterWording>>> = {
  thank_you: THANK_YOU,
  check_in: CHECK_IN,
  final_check_in: FINAL_CHECK_IN,
  keep_in_touch: KEEP_IN_TOUCH,
  respond_to_concerns: RESPOND_TO_CONCERNS,
};

/** A stable 32-bit number from a string (FNV-1a). */
export function stableHash(text: string): number {
  let hash = 0x811c9dc5;
  for (const char of text) {
    hash ^= char.codePointAt(0) ?? 0;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** Whose letter this is and to whom: the wording is a function of these alone. */
export interface WordingChoice {
  candidateId: string;
  /** The recipient's place on the panel (0-based); -1 when not on it (the candidate). */
  panelIndex: number;
  recipientKey: string;
  kind: StepKind;
  /** With `uniform`, every panel member gets the same wording (L11). */
  uniform: boolean;
  /** 0 first; the composer tries 1, 2 … when a wording is too close to another letter (L12). */
  attempt: number;
}

/**
 * The wording of one slot. The base depends on the candidate, the kind and the slot (so two
 * candidates write differently to one person); panel members then take consecutive wordings
 * from that base, so a panel of up to `variants` people never shares a sentence. A person off
 * the panel gets a wording from their own key. Another attempt moves the base.
 */
export function chooseVariant(choice: WordingChoice, slotId: string, variants: number): number {
  const base = stableHash(`${choice.candidateId}|${choice.kind}|${slotId}|${choice.attempt}`);
  const offset = choice.uniform ? 0 : choice.panelIndex >= 0 ? choice.panelIndex : stableHash(choice.recipientKey);
  return (base + offset) % variants;
}
