/** The tool version recorded in every manifest; a test keeps it equal to package.json's. */
export const toolVersion = "0.1.0";
