// What a trade does, in the words customers use: the service kinds of one business type, each with
// the words that mark a catalog item as that kind (`names`) and the everyday descriptions that mean
// it (`phrases`). A phrase matches when every one of its words appears in the text, in any order,
// after the normalisation of catalog-match (stemmed, filler words dropped, one typo allowed), so
// "toilet leak" covers "my toilet is leaking at the base". Data only.

export type ServiceKind = {
  /** Stable key, shared between trades when both do the work ("water_heater"). */
  kind: string;
  /** How the kind is named to a customer who asked for it elsewhere ("air conditioning"). */
  label: string;
  /** Words that, in a catalog item's name or aliases, mark it as this kind. */
  names: readonly string[];
  /** Descriptions that mean this kind. */
  phrases: readonly string[];
  /**
   * Added to the kind's score: a kind that says what to do ("maintenance") outranks the object it
   * is done to ("AC"); the generic kind of a trade ("house cleaning") yields to specific ones.
   */
  priority?: number;
};

export type TradeTemplate = {
  /** What the trade and its people are called ("plumber"): asking for them is a need. */
  words: readonly string[];
  kinds: readonly ServiceKind[];
  /** Descriptions of danger or damage for this trade, beside the ones every trade shares. */
  emergencies: readonly string[];
};
