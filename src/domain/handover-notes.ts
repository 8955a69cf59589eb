// One line, in the caller's own language, for a text the templates cannot answer: a person will
// write back. Keyed by ISO 639-3 code (what src/domain/understanding/language.ts recognises). Plain
// words, no business name: they are read before the English and Spanish line that names it.

const HANDOVER_NOTES: Readonly<Record<string, string>> = {
  fra: 'Une personne va vous répondre bientôt.',
  deu: 'Eine Person wird Ihnen bald antworten.',
  por: 'Uma pessoa vai responder em breve.',
  ita: 'Una persona le risponderà presto.',
  vie: 'Một nhân viên sẽ trả lời bạn sớm.',
  cmn: '我们的工作人员会尽快回复您。',
  kor: '곧 담당자가 답장을 드리겠습니다.',
  jpn: '担当者がまもなく返信いたします。',
  rus: 'Сотрудник скоро вам ответит.',
  arb: 'سيرد عليك أحد موظفينا قريبًا.',
};

/** The note for `code` followed by a separator, or '' when there is none for that language. */
export function handoverNote(code: string | null | undefined): string {
  const note = code ? HANDOVER_NOTES[code] : undefined;
  return note ? `${note} / ` : '';
}
