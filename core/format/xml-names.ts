/** The prefix under which the XML builder and parser hold an element's attributes. */
export const attr = "@_";
