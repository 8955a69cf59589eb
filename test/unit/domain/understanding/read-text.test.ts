import { describe, expect, it } from 'vitest';
import { detectLanguage, guessOtherLanguage } from '../../../../src/domain/understanding/language.ts';
import { readText } from '../../../../src/domain/understanding/read-text.ts';

const language = (text: string) => {
  const { words, clean } = readText(text);
  return detectLanguage(words, clean);
};

describe('readText', () => {
  it('spells out the emoji that mean yes', () => {
    for (const emoji of ['👍', '👌', '✅', '👍🏻']) expect(readText(emoji).words).toEqual(['yes']);
  });

  it('expands shorthand and corrects misspellings of the words the reader relies on', () => {
    expect(readText('tmrw pls thx').words).toEqual(['tomorrow', 'please', 'thanks']);
    expect(readText('tomorow wensday plumer').words).toEqual(['tomorrow', 'wednesday', 'plumber']);
  });

  it('leaves real words alone even one edit from a known one', () => {
    expect(readText('change it later, I think').words).toEqual(['change', 'it', 'later', 'i', 'think']);
    expect(readText('end of lease').words).toEqual(['end', 'of', 'lease']);
  });
});

describe('detectLanguage', () => {
  it('tells Spanish from English on short texts', () => {
    expect(language('sí')).toBe('es');
    expect(language('mañana?')).toBe('es');
    expect(language('hola, tengo una fuga en el baño')).toBe('es');
    expect(language('ok')).toBe('en');
    expect(language('tmrw at 3?')).toBe('en');
  });

  it('says other for a long text in another language', () => {
    expect(language("Bonjour, j'ai une fuite d'eau sous l'évier de la cuisine depuis ce matin")).toBe(
      'other',
    );
    expect(language('Olá, tenho um vazamento de água debaixo da pia da cozinha')).toBe('other');
    expect(language('Xin chào, bồn rửa bát nhà tôi bị tắc rồi')).toBe('other');
    expect(language('hot water runs out after like 2 minutes')).toBe('en');
  });

  it('says other for French and German that spelling correction would make English, and for other scripts', () => {
    // "mon" is shorthand for Monday and "demain" one edit from "domain": the written words decide.
    expect(language('Bonjour, mon évier est bouché, pouvez-vous venir demain?')).toBe('other');
    expect(language('Hallo, mein Waschbecken ist verstopft. Können Sie morgen kommen?')).toBe('other');
    expect(language('Bonjour')).toBe('other');
    expect(language('merci beaucoup')).toBe('other');
    expect(language('你好，我的水槽堵了')).toBe('other');
    expect(language('Здравствуйте, у меня засор в раковине')).toBe('other');
    expect(language('my sink is clogged, can you come mon?')).toBe('en');
    expect(language('ok 👍')).toBe('en');
  });

  it('names the other language where it can, for a note in it', () => {
    expect(guessOtherLanguage('Bonjour, mon évier est bouché, pouvez-vous venir demain?')).toBe('fra');
    expect(guessOtherLanguage('Hallo, mein Waschbecken ist verstopft. Können Sie morgen kommen?')).toBe(
      'deu',
    );
    expect(guessOtherLanguage('merci')).toBe('fra');
    expect(guessOtherLanguage('你好，我的水槽堵了')).toBe('cmn');
    expect(guessOtherLanguage('Здравствуйте')).toBe('rus');
    expect(guessOtherLanguage('zzz')).toBeNull();
  });
});
