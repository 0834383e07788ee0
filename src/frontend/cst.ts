// Front end: the shapes of the CST nodes the grammar in parser.ts builds.
// GENERATED from the grammar by chevrotain's generateCstDts; do not edit by hand.
// test/frontend/grammar.test.ts checks it is current; regenerate with
// UPDATE_GOLDEN=1 npx vitest run test/frontend

import type { CstNode, ICstVisitor, IToken } from "chevrotain";

export interface FileCstNode extends CstNode {
  name: "file";
  children: FileCstChildren;
}

export type FileCstChildren = {
  model?: ModelCstNode[];
};

export interface ModelCstNode extends CstNode {
  name: "model";
  children: ModelCstChildren;
}

export type ModelCstChildren = {
  Model: IToken[];
  Ident: IToken[];
  LCurly: IToken[];
  item?: ItemCstNode[];
  RCurly: IToken[];
};

export interface ItemCstNode extends CstNode {
  name: "item";
  children: ItemCstChildren;
}

export type ItemCstChildren = {
  annotation?: AnnotationCstNode[];
  inputDecl?: InputDeclCstNode[];
  tableDecl?: TableDeclCstNode[];
  outputDecl?: OutputDeclCstNode[];
  assignment?: AssignmentCstNode[];
};

export interface AnnotationCstNode extends CstNode {
  name: "annotation";
  children: AnnotationCstChildren;
}

export type AnnotationCstChildren = {
  At: IToken[];
  Ident: IToken[];
  LParen?: IToken[];
  argList?: ArgListCstNode[];
  RParen?: IToken[];
};

export interface InputDeclCstNode extends CstNode {
  name: "inputDecl";
  children: InputDeclCstChildren;
}

export type InputDeclCstChildren = {
  Input: IToken[];
  name: IToken[];
  Colon: IToken[];
  typeName: IToken[];
  LBracket: IToken[];
  NumberLit: IToken[];
  RBracket: IToken[];
};

export interface TableDeclCstNode extends CstNode {
  name: "tableDecl";
  children: TableDeclCstChildren;
}

export type TableDeclCstChildren = {
  Table: IToken[];
  Ident: IToken[];
  LBracket?: IToken[];
  NumberLit?: IToken[];
  RBracket?: IToken[];
  Colon: IToken[];
  call: CallCstNode[];
};

export interface OutputDeclCstNode extends CstNode {
  name: "outputDecl";
  children: OutputDeclCstChildren;
}

export type OutputDeclCstChildren = {
  Output: IToken[];
  Ident: IToken[];
  Equals?: IToken[];
  expression?: ExpressionCstNode[];
};

export interface AssignmentCstNode extends CstNode {
  name: "assignment";
  children: AssignmentCstChildren;
}

export type AssignmentCstChildren = {
  Ident: IToken[];
  Equals: IToken[];
  expression: ExpressionCstNode[];
};

export interface ExpressionCstNode extends CstNode {
  name: "expression";
  children: ExpressionCstChildren;
}

export type ExpressionCstChildren = {
  call?: CallCstNode[];
  ref?: RefCstNode[];
  NumberLit?: IToken[];
  list?: ListCstNode[];
  True?: IToken[];
  False?: IToken[];
};

export interface CallCstNode extends CstNode {
  name: "call";
  children: CallCstChildren;
}

export type CallCstChildren = {
  Ident: IToken[];
  LParen: IToken[];
  argList?: ArgListCstNode[];
  RParen: IToken[];
};

export interface ArgListCstNode extends CstNode {
  name: "argList";
  children: ArgListCstChildren;
}

export type ArgListCstChildren = {
  arg: (ArgCstNode)[];
  Comma?: (IToken)[];
};

export interface ArgCstNode extends CstNode {
  name: "arg";
  children: ArgCstChildren;
}

export type ArgCstChildren = {
  Ident?: IToken[];
  Colon?: IToken[];
  expression: ExpressionCstNode[];
};

export interface RefCstNode extends CstNode {
  name: "ref";
  children: RefCstChildren;
}

export type RefCstChildren = {
  Ident: IToken[];
  LBracket?: IToken[];
  NumberLit?: IToken[];
  RBracket?: IToken[];
};

export interface ListCstNode extends CstNode {
  name: "list";
  children: ListCstChildren;
}

export type ListCstChildren = {
  LBracket: IToken[];
  expression?: (ExpressionCstNode)[];
  Comma?: (IToken)[];
  RBracket: IToken[];
};
