// Loose<T>: FusionAuth's client types as the JSON on the wire can spell them.
//
// @fusionauth/typescript-client declares its enums as TypeScript string enums
// (`enum KeyAlgorithm { RS256 = "RS256", … }`). JSON has no enums: a request body says "RS256",
// and a plain string literal is not assignable to a string enum. Loose<T> turns every string enum
// into the union of its values (`${KeyAlgorithm}` = "RS256" | "ES256" | …) and recurses through
// objects and arrays, keeping each property's optionality. It keeps everything else strict:
//   - a value outside the enum ("RS257") still fails;
//   - a wrongly typed value ("2048" for a number) still fails;
//   - the mapped object types have no index signature, so an unknown field in an object literal
//     still fails the excess-property check (TS2353).
// Objects keyed by an enum (`Record<EventType, boolean>`, Java's Map<EventType, Boolean>) get
// optional keys spelled as the enum's values: FusionAuth accepts any subset of the events.
// `any` (e.g. `data?: Record<string, any>`) stays `any`.

type IsAny<T> = 0 extends 1 & T ? true : false;

/** A key that is a member of a string enum (not a plain string literal and not `string`). */
type IsEnumKey<K> = K extends string ? (`${K}` extends K ? false : true) : false;
type EnumKeysOf<T> = { [K in keyof T]-?: IsEnumKey<K> extends true ? K : never }[keyof T];

export type Loose<T> =
  IsAny<T> extends true
    ? T
    : T extends string
      ? `${T}`
      : T extends number | boolean | bigint | symbol | null | undefined
        ? T
        : T extends ReadonlyArray<infer U>
          ? Array<Loose<U>>
          : T extends object
            ? [EnumKeysOf<T>] extends [never]
              ? { [K in keyof T]: Loose<T[K]> }
              : { [K in keyof T as K extends string ? `${K}` : K]?: Loose<T[K]> }
            : T;
