import type { Trade } from '../understanding.ts';
import { CLEANING } from './cleaning.ts';
import { ELECTRICAL } from './electrical.ts';
import { HVAC } from './hvac.ts';
import { PLUMBING } from './plumbing.ts';
import type { ServiceKind, TradeTemplate } from './trade-template.ts';

// The trade templates by business type, and what no trade here does: asked of any business, those
// are out of scope too.

export const TRADES: Readonly<Record<Trade, TradeTemplate>> = {
  plumbing: PLUMBING,
  hvac: HVAC,
  electrical: ELECTRICAL,
  cleaning: CLEANING,
};

export const ELSEWHERE: readonly ServiceKind[] = [
  {
    kind: 'roofing',
    label: 'roofing',
    names: [],
    phrases: ['roof', 'roofing', 'shingles', 'gutter', 'gutters', 'tejado', 'goteras techo'],
  },
  { kind: 'painting', label: 'painting', names: [], phrases: ['paint', 'painting', 'painter', 'pintar'] },
  {
    kind: 'pest',
    label: 'pest control',
    names: [],
    phrases: ['pest', 'termite', 'termites', 'roaches', 'mice', 'rats', 'exterminator', 'bed bugs'],
  },
  {
    kind: 'landscaping',
    label: 'yard work',
    names: [],
    phrases: ['lawn', 'mow', 'mowing', 'landscaping', 'tree', 'trees', 'yard work', 'sprinkler'],
  },
  {
    kind: 'appliance',
    label: 'appliance repair',
    names: [],
    phrases: [
      'fridge',
      'refrigerator',
      'washing machine',
      'dishwasher',
      'appliance',
      'appliances',
      'washer',
      'dryer',
      'oven',
      'stove',
      'microwave',
      'lavadora',
      'secadora',
      'refrigerador',
    ],
  },
  { kind: 'locksmith', label: 'locksmith', names: [], phrases: ['locksmith', 'locked out', 'lock', 'rekey'] },
  {
    kind: 'auto',
    label: 'car repair',
    names: [],
    phrases: ['car repair', 'my car', 'brakes', 'oil change', 'tire', 'tires'],
  },
  {
    kind: 'carpentry',
    label: 'carpentry',
    names: [],
    phrases: ['drywall', 'cabinet', 'cabinets', 'door hinge', 'deck', 'fence', 'flooring', 'tile floor'],
  },
];
