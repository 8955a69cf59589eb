// Whether a forwarded call that ended was missed, from what Twilio's <Dial> action reports.
//
// The common real-life miss is the owner's own voicemail answering: Twilio then reports
// DialCallStatus=completed, as for a person. We tell them apart with call screening: the dialled
// <Number> plays a whisper that asks the callee to press a key before the call connects. A person
// presses it (recorded as `screenAccepted`); a voicemail cannot, so a `completed` dial whose screen
// was never accepted was answered by a machine and counts as missed. Twilio's AnsweredBy (when
// answering machine detection is on) is honoured too. The dial timeout (policy, 18 s by default) also
// stays below the usual carrier voicemail pick-up (about 20–25 s).
//
// A caller who hangs up before `minRingSeconds` is a pocket dial and gets no text.

export type DialCallStatus = 'completed' | 'answered' | 'busy' | 'no-answer' | 'failed' | 'canceled';

export type DialOutcome = 'missed' | 'answered' | 'too_short';

export function classifyDial(input: {
  dialCallStatus: DialCallStatus;
  screenAccepted: boolean;
  answeredBy: string | null;
  ringSeconds: number;
  minRingSeconds: number;
}): DialOutcome {
  switch (input.dialCallStatus) {
    case 'no-answer':
    case 'busy':
    case 'failed':
      return 'missed';
    case 'canceled':
      return input.ringSeconds < input.minRingSeconds ? 'too_short' : 'missed';
    case 'completed':
    case 'answered': {
      const machine = input.answeredBy?.startsWith('machine');
      return machine || !input.screenAccepted ? 'missed' : 'answered';
    }
  }
}
