// Front end, stage 2: the grammar of .rmdl, as a chevrotain CST parser. One
// parser instance is built once and reused; error recovery is on, so one run
// reports every syntax error, and statements that needed recovery are
// remembered as "broken" so later stages skip them instead of guessing.
// The CST shapes this grammar makes are in cst.ts (generated from it).

import { CstParser, type CstNode, type IRecognitionException, type IToken } from "chevrotain";
import {
  ALL_TOKENS,
  At,
  Colon,
  Comma,
  Equals,
  False,
  Ident,
  Input,
  LBracket,
  LCurly,
  LParen,
  Model,
  NumberLit,
  Output,
  RBracket,
  RCurly,
  RParen,
  Table,
  True,
} from "./lexer.js";
import { syntaxMessages } from "./syntax-errors.js";

/** The .rmdl grammar. Rule names are the CST node names (see cst.ts). */
export class RmdlParser extends CstParser {
  /** Items whose parse needed error recovery; reset on every parse. */
  brokenItems = new Set<CstNode>();

  /**
   * Grammar validation is off by default (chevrotain's advice for production, and its checks
   * need Node 22's Object.groupBy); test/frontend/grammar.test.ts builds one with `validate`.
   */
  constructor(validate = false) {
    super(ALL_TOKENS, {
      recoveryEnabled: true,
      nodeLocationTracking: "full",
      // Phrasing some errors needs the tokens around them: the provider reads them from this parser's input, only while it parses.
      errorMessageProvider: syntaxMessages(() => this.input),
      skipValidations: !validate,
    });
    this.performSelfAnalysis();
  }

  file = this.RULE("file", () => {
    this.MANY(() => this.SUBRULE(this.model));
  });

  model = this.RULE("model", () => {
    this.CONSUME(Model);
    this.CONSUME(Ident);
    this.CONSUME(LCurly);
    this.MANY(() => {
      let errorsBefore = 0;
      this.ACTION(() => (errorsBefore = this.errors.length));
      const item = this.SUBRULE(this.item);
      this.ACTION(() => this.errors.length > errorsBefore && this.brokenItems.add(item));
    });
    this.CONSUME(RCurly);
  });

  item = this.RULE("item", () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.annotation) },
      { ALT: () => this.SUBRULE(this.inputDecl) },
      { ALT: () => this.SUBRULE(this.tableDecl) },
      { ALT: () => this.SUBRULE(this.outputDecl) },
      { ALT: () => this.SUBRULE(this.assignment) },
    ]);
  });

  annotation = this.RULE("annotation", () => {
    this.CONSUME(At);
    this.CONSUME(Ident);
    this.OPTION(() => {
      this.CONSUME(LParen);
      this.OPTION2(() => this.SUBRULE(this.argList));
      this.CONSUME(RParen);
    });
  });

  inputDecl = this.RULE("inputDecl", () => {
    this.CONSUME(Input);
    this.CONSUME(Ident, { LABEL: "name" });
    this.CONSUME(Colon);
    this.CONSUME2(Ident, { LABEL: "typeName" });
    this.CONSUME(LBracket);
    this.CONSUME(NumberLit);
    this.CONSUME(RBracket);
  });

  tableDecl = this.RULE("tableDecl", () => {
    this.CONSUME(Table);
    this.CONSUME(Ident);
    this.OPTION(() => {
      this.CONSUME(LBracket);
      this.CONSUME(NumberLit);
      this.CONSUME(RBracket);
    });
    this.CONSUME(Colon);
    this.SUBRULE(this.call);
  });

  outputDecl = this.RULE("outputDecl", () => {
    this.CONSUME(Output);
    this.CONSUME(Ident);
    this.OPTION(() => {
      this.CONSUME(Equals);
      this.SUBRULE(this.expression);
    });
  });

  assignment = this.RULE("assignment", () => {
    this.CONSUME(Ident);
    this.CONSUME(Equals);
    this.SUBRULE(this.expression);
  });

  expression = this.RULE("expression", () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.call) },
      // `=` never follows a value, so `NAME =` here is the next statement and this one lacks its value.
      { GATE: () => this.LA(2).tokenType !== Equals, ALT: () => this.SUBRULE(this.ref) },
      { ALT: () => this.CONSUME(NumberLit) },
      { ALT: () => this.SUBRULE(this.list) },
      { ALT: () => this.CONSUME(True) },
      { ALT: () => this.CONSUME(False) },
    ]);
  });

  call = this.RULE("call", () => {
    this.CONSUME(Ident);
    this.CONSUME(LParen);
    this.OPTION(() => this.SUBRULE(this.argList));
    this.CONSUME(RParen);
  });

  argList = this.RULE("argList", () => {
    this.SUBRULE(this.arg);
    this.MANY(() => {
      this.CONSUME(Comma);
      this.SUBRULE2(this.arg);
    });
    this.OPTION(() => this.CONSUME2(Comma));
  });

  arg = this.RULE("arg", () => {
    this.OPTION(() => {
      this.CONSUME(Ident);
      this.CONSUME(Colon);
    });
    this.SUBRULE(this.expression);
  });

  ref = this.RULE("ref", () => {
    this.CONSUME(Ident);
    this.OPTION(() => {
      this.CONSUME(LBracket);
      this.CONSUME(NumberLit);
      this.CONSUME(RBracket);
    });
  });

  list = this.RULE("list", () => {
    this.CONSUME(LBracket);
    this.OPTION(() => {
      this.SUBRULE(this.expression);
      this.MANY(() => {
        this.CONSUME(Comma);
        this.SUBRULE2(this.expression);
      });
      this.OPTION2(() => this.CONSUME2(Comma));
    });
    this.CONSUME(RBracket);
  });
}

/** The one parser instance; chevrotain parsers are meant to be built once and fed new input. */
export const parser = new RmdlParser();

/** A parsed file: its CST, the syntax errors, and which model items needed recovery. */
export interface CstResult {
  cst: CstNode;
  errors: IRecognitionException[];
  broken: ReadonlySet<CstNode>;
}

/** Parses tokens into a CST; never throws on bad input. */
export function parseTokens(tokens: IToken[]): CstResult {
  parser.brokenItems = new Set();
  parser.input = tokens;
  const cst = parser.file();
  return { cst, errors: [...parser.errors], broken: parser.brokenItems };
}
