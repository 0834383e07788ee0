// Objects keyed by names a user chose (models, inputs, outputs, tensors, plan
// units): created without a prototype, so a name such as `__proto__`,
// `constructor` or `toString` is just a key — it neither reaches
// Object.prototype when written nor finds an inherited function when read.
// (src/runtime does the same inline: it imports nothing outside itself.)

/** An empty object with no prototype, for keys that come from user input. */
export const dict = <V>(): Record<string, V> => Object.create(null) as Record<string, V>;

/** `obj[key]` when it is the object's own property; undefined for inherited ones (`toString`). */
export const own = <V>(obj: Readonly<Record<string, V>>, key: string): V | undefined => (Object.hasOwn(obj, key) ? obj[key] : undefined);
