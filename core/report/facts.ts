/** A labelled value of a result; a fact without a value is left out when shown. */
export type Fact = [label: string, value: string | number | undefined];
