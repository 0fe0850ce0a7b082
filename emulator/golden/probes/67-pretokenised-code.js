// Pretokenised code (Espruino's lexer, src/jslex.c LEX_TYPES): outside string literals and
// comments a byte from 138 up is a whole token, a reserved word or an operator of the table
// below (138 + its index), or from 0xD0 "??" and the raw strings and integers. The build
// stores the module and the boot stage this way; this probe uses every token once, from RAM
// (eval), from a Storage file (eval of a read) and as a module (require).
var C = String.fromCharCode;
var TABLE = ["==", "===", "!=", "!==", "<=", "<<", "<<=", ">=", ">>", ">>>", ">>=", ">>>=", "+=", "-=",
  "++", "--", "*=", "/=", "%=", "&=", "&&", "|=", "||", "^=", "=>", "if", "else", "do", "while", "for",
  "break", "continue", "function", "return", "var", "let", "const", "this", "throw", "try", "catch",
  "finally", "true", "false", "null", "undefined", "new", "in", "instanceof", "switch", "case",
  "default", "delete", "typeof", "void", "debugger", "class", "extends", "super", "static", "of"];
// "@x@" in the text below is the token x
function tok(s) { return s.replace(/@([^@]+)@/g, function (m, t) { return C(138 + TABLE.indexOf(t)); }); }
var prog = tok('(@function@(){@var@ r=[],a=5,b=2,o={k:1};' +
  'r.push(a@==@5,a@===@5,a@!=@4,a@!==@5,a@<=@5,a@<<@1,a@>=@6,a@>>@1,-a@>>>@28);' +
  '@var@ c=1;c@<<=@2;c@>>=@1;c@+=@10;c@-=@1;c@++@;c@--@;c@*=@3;c@/=@11;c@%=@2;c@&=@1;c@|=@6;c@^=@2;' +
  '@var@ d=-16;d@>>>=@28;' +
  'r.push(c,d,@true@@&&@@false@,@null@@||@7,@typeof@ @undefined@,@void@ 0,"k"@in@o,o@instanceof@Object);' +
  '@if@(a)r.push("if");@else@ r.push("else");' +
  '@do@{a@--@;}@while@(a>3);r.push(a);' +
  '@for@(@var@ i=0;i<3;i@++@){@if@(i@==@1)@continue@;@if@(i@==@2)@break@;r.push("for"+i);}' +
  '@try@{@throw@ @new@ Error("t");}@catch@(e){r.push(e.message);}@finally@{r.push("fin");}' +
  '@switch@(b){@case@ 2:r.push("two");@break@;@default@:r.push("other");}' +
  '@delete@ o.k;r.push(Object.keys(o).length);' +
  '@function@ sq(x){@return@ x*x;}r.push(sq(3));' +
  '@function@ me(){@return@ @this@.v;}r.push(me.call({v:"this"}));' +
  '@let@ l=1;@const@ k=2;r.push(l+k);' +
  '@var@ f=(x)@=>@x+1;r.push(f(1));' +
  '@class@ A{@static@ s(){@return@"static";}m(){@return@"A";}}' +
  '@class@ B @extends@ A{m(){@return@ @super@.m()+"B";}}' +
  'r.push(A.s(),@new@ B().m());' +
  '@for@(@var@ v @of@[7,8])r.push(v);' +
  '@function@ nd(){@debugger@;}' +
  'r.push((@function@(){@return@/a"b/.test(\'a"b\');})());' +
  '@return@ r;})()');
print("ram", JSON.stringify(eval(prog)));
var S = require("Storage");
S.write("prog", prog);
print("storage", JSON.stringify(eval(S.read("prog"))));
// the raw literals: "??", 8- and 16-bit-length strings, integers 0, 8-bit and 16-bit (signed)
S.write("tokmod", "exports.raw=" + C(138 + TABLE.indexOf("function")) + "(){" + C(138 + TABLE.indexOf("return")) +
  "[" + C(0xD1, 3) + "abc," + C(0xD2, 2, 0) + "de," + C(0xD3) + "," + C(0xD4, 0xFB) + "," + C(0xD5, 0, 1) + "," +
  C(0xD5, 0xFF, 0xFF) + "," + C(138 + TABLE.indexOf("null")) + C(0xD0) + "9,1" + C(0xD0) + "2];};");
print("module", JSON.stringify(require("tokmod").raw()));
// in a string literal or a comment the same bytes are text
print("text", eval('"' + C(0xAA) + '".charCodeAt(0)'), eval("1 // " + C(0xAA) + "\n+1"));
