// Lint TypeScript sources with the type-aware rules that catch real bugs
// (floating promises, misused promises), not style: formatting is not linted.
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", "dist/", "tests/fixtures/", "**/*.mjs", "**/*.js"] },
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    // IMAP and SMTP speak to the mail API, never to SQL (docs/DESIGN.md).
    files: ["native-host/imap/**/*.ts", "native-host/smtp/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { group: ["**/store/*", "better-sqlite3*"], message: "IMAP and SMTP use the mail API (native-host/mail), never the store or SQL." },
          ],
        },
      ],
    },
  },
);
