/**
 * The codes a patient may use when adding a record, shared by the health API (which refuses any
 * other) and the patient portal (which offers exactly these). Small on purpose: a record added
 * from home is a blood pressure, a body weight, or an allergy from a short list.
 */

export const LOINC = 'http://loinc.org';
export const UCUM = 'http://unitsofmeasure.org';
export const OBSERVATION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
export const ALLERGY_CLINICAL = 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical';
export const ALLERGY_VERIFICATION = 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification';

/** LOINC codes of the measurements a patient may add. */
export const BLOOD_PRESSURE = '85354-9';
export const SYSTOLIC = '8480-6';
export const DIASTOLIC = '8462-4';
export const BODY_WEIGHT = '29463-7';

/** Accepted ranges: wide enough for any real reading, narrow enough to catch a slipped digit. */
export const RANGES = {
  systolic: { min: 60, max: 260 },
  diastolic: { min: 30, max: 160 },
  weightKg: { min: 1, max: 300 },
} as const;

/**
 * This example's own code system for allergens: the eight "specific raw materials" Japanese food
 * labelling names (特定原材料: egg, milk, wheat, buckwheat, peanut, shrimp, crab, walnut) and
 * penicillins. A real service would code them in SNOMED CT or a national terminology; a local
 * system says plainly that these codes are ours.
 */
export const ALLERGEN_SYSTEM = 'https://health.example/fhir/CodeSystem/allergen';

export const ALLERGENS = {
  egg: { ja: '卵', en: 'Egg' },
  milk: { ja: '乳', en: 'Milk' },
  wheat: { ja: '小麦', en: 'Wheat' },
  buckwheat: { ja: 'そば', en: 'Buckwheat' },
  peanut: { ja: '落花生（ピーナッツ）', en: 'Peanut' },
  shrimp: { ja: 'えび', en: 'Shrimp' },
  crab: { ja: 'かに', en: 'Crab' },
  walnut: { ja: 'くるみ', en: 'Walnut' },
  penicillin: { ja: 'ペニシリン系抗菌薬', en: 'Penicillins' },
} as const satisfies Record<string, { ja: string; en: string }>;
export type AllergenCode = keyof typeof ALLERGENS;
export const isAllergenCode = (value: string): value is AllergenCode => Object.hasOwn(ALLERGENS, value);

/** FHIR AllergyIntolerance.criticality (a required binding: nothing else is a valid value). */
export const CRITICALITIES = ['low', 'high', 'unable-to-assess'] as const;
export type Criticality = (typeof CRITICALITIES)[number];
