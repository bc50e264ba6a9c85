import { addInterviewer, removeInterviewer, updateInterview, updateInterviewer } from '../services/debrief.js';
import type { MutationResolvers } from './generated/resolvers-types.js';

// The debrief (API.md "After the interview"): thin, like every resolver.
export const debriefMutations: Pick<MutationResolvers, 'updateInterview' | 'addInterviewer' | 'updateInterviewer' | 'removeInterviewer'> = {
  updateInterview: (_root, { id, input }, { services, caller }) => updateInterview(services, caller, id, input),
  addInterviewer: (_root, { interviewId, input }, { services, caller }) => addInterviewer(services, caller, interviewId, input),
  updateInterviewer: (_root, { id, input }, { services, caller }) => updateInterviewer(services, caller, id, input),
  removeInterviewer: (_root, { id }, { services, caller }) => removeInterviewer(services, caller, id),
};
