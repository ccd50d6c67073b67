//! A small XML writer for S3 response documents and a bounded reader for request documents.
//!
//! Request bodies are parsed into a tiny element tree with hard limits: no DTD (so no entity expansion or
//! external entities), bounded depth and element count. Anything else is `MalformedXML`, as S3 answers.

use quick_xml::Reader;
use quick_xml::events::Event;

use crate::error::{S3Error, S3ErrorCode};

/// The S3 namespace, on the root of every response document.
pub const S3_NS: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

/// Builds an XML document into a string. Text and attribute values are escaped.
#[derive(Debug)]
pub struct XmlWriter {
    buf: String,
}

impl Default for XmlWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl XmlWriter {
    /// A document with the XML declaration.
    pub fn new() -> Self {
        let mut buf = String::with_capacity(512);
        buf.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        XmlWriter { buf }
    }

    /// Opens the root element with the S3 namespace.
    pub fn start_root(&mut self, name: &str) {
        self.buf.push('<');
        self.buf.push_str(name);
        self.buf.push_str(" xmlns=\"");
        self.buf.push_str(S3_NS);
        self.buf.push_str("\">");
    }

    /// Opens an element.
    pub fn start(&mut self, name: &str) {
        self.buf.push('<');
        self.buf.push_str(name);
        self.buf.push('>');
    }

    /// Closes an element.
    pub fn end(&mut self, name: &str) {
        self.buf.push_str("</");
        self.buf.push_str(name);
        self.buf.push('>');
    }

    /// An element holding escaped text.
    pub fn elem(&mut self, name: &str, text: &str) {
        self.start(name);
        escape_into(&mut self.buf, text);
        self.end(name);
    }

    /// An element whose text escapes only `&`, `<` and `>`: S3's error messages carry quotes as they are.
    pub fn elem_plain_quotes(&mut self, name: &str, text: &str) {
        self.start(name);
        for c in text.chars() {
            match c {
                '"' => self.buf.push('"'),
                c => escape_into(&mut self.buf, c.encode_utf8(&mut [0; 4])),
            }
        }
        self.end(name);
    }

    /// Escaped text inside the current element.
    pub fn text(&mut self, text: &str) {
        escape_into(&mut self.buf, text);
    }

    /// Appends raw, already well-formed XML.
    pub fn raw(&mut self, xml: &str) {
        self.buf.push_str(xml);
    }

    /// The finished document.
    pub fn finish(self) -> String {
        self.buf
    }
}

/// Escapes `&`, `<`, `>` and `"` (S3 writes ETags as `&quot;…&quot;`), and writes control characters as
/// character references. Apostrophes stay as they are, as in S3's messages.
pub fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c if (c as u32) < 0x20 && c != '\t' && c != '\n' => {
                out.push_str(&format!("&#x{:X};", c as u32));
            }
            c => out.push(c),
        }
    }
}

/// An element of a parsed request document: local name, text and children.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Element {
    /// The local name (namespace prefix removed).
    pub name: String,
    /// The concatenated text directly inside the element, unescaped.
    pub text: String,
    /// Child elements in document order.
    pub children: Vec<Element>,
}

impl Element {
    /// The first child with this name.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// All children with this name.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The trimmed text of the first child with this name.
    pub fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.trim())
    }
}

/// Limits on request documents.
const MAX_DEPTH: usize = 16;
const MAX_ELEMENTS: usize = 100_000;

fn malformed() -> S3Error {
    S3Error::new(S3ErrorCode::MalformedXML)
}

/// Parses a request document into its root element. Any syntax error, DTD, or limit breach is
/// `MalformedXML`.
pub fn parse(body: &[u8]) -> Result<Element, S3Error> {
    let text = std::str::from_utf8(body).map_err(|_| malformed())?;
    // XML 1.0 has no place for control characters other than tab, newline and carriage return.
    if text.chars().any(|c| !xml_char(c)) {
        return Err(malformed());
    }
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(false);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut count = 0usize;
    loop {
        match reader.read_event().map_err(|_| malformed())? {
            Event::Start(e) => {
                if root.is_some() {
                    return Err(malformed());
                }
                count += 1;
                if stack.len() >= MAX_DEPTH || count > MAX_ELEMENTS {
                    return Err(malformed());
                }
                let name = local_name(e.name().as_ref())?;
                stack.push(Element {
                    name,
                    ..Element::default()
                });
            }
            Event::Empty(e) => {
                if root.is_some() {
                    return Err(malformed());
                }
                count += 1;
                if stack.len() >= MAX_DEPTH || count > MAX_ELEMENTS {
                    return Err(malformed());
                }
                let el = Element {
                    name: local_name(e.name().as_ref())?,
                    ..Element::default()
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => root = Some(el),
                }
            }
            Event::End(_) => {
                let el = stack.pop().ok_or_else(malformed)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => root = Some(el),
                }
            }
            Event::Text(t) => {
                let s = t.decode().map_err(|_| malformed())?;
                match stack.last_mut() {
                    Some(el) => el.text.push_str(&s),
                    None if s.trim().is_empty() => {}
                    None => return Err(malformed()),
                }
            }
            Event::GeneralRef(r) => {
                let c = if r.is_char_ref() {
                    r.resolve_char_ref()
                        .ok()
                        .flatten()
                        .filter(|&c| xml_char(c))
                        .ok_or_else(malformed)?
                } else {
                    match r.decode().map_err(|_| malformed())?.as_ref() {
                        "amp" => '&',
                        "lt" => '<',
                        "gt" => '>',
                        "quot" => '"',
                        "apos" => '\'',
                        // Any other entity would need a DTD, which is refused.
                        _ => return Err(malformed()),
                    }
                };
                stack.last_mut().ok_or_else(malformed)?.text.push(c);
            }
            Event::CData(c) => {
                let s = std::str::from_utf8(&c).map_err(|_| malformed())?;
                match stack.last_mut() {
                    Some(el) => el.text.push_str(s),
                    None => return Err(malformed()),
                }
            }
            Event::DocType(_) => return Err(malformed()),
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(malformed());
    }
    root.ok_or_else(malformed)
}

/// Whether XML 1.0 allows the character in a document.
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
}

fn local_name(qname: &[u8]) -> Result<String, S3Error> {
    let name = std::str::from_utf8(qname).map_err(|_| malformed())?;
    Ok(match name.rsplit_once(':') {
        Some((_, local)) => local.to_owned(),
        None => name.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_namespaced_documents() {
        let el = parse(
            br#"<?xml version="1.0"?><Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
               <Object><Key>a&amp;b</Key></Object><Quiet>true</Quiet></Delete>"#,
        )
        .expect("valid");
        assert_eq!(el.name, "Delete");
        assert_eq!(el.child("Object").and_then(|o| o.child_text("Key")), Some("a&b"));
        assert_eq!(el.child_text("Quiet"), Some("true"));
    }

    #[test]
    fn rejects_dtd_and_entities() {
        let bomb = br#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><Delete>&lol2;</Delete>"#;
        assert_eq!(parse(bomb).unwrap_err().code(), S3ErrorCode::MalformedXML);
        assert_eq!(
            parse(b"<a>&xxe;</a>").unwrap_err().code(),
            S3ErrorCode::MalformedXML
        );
    }

    #[test]
    fn rejects_broken_documents() {
        for doc in [
            &b""[..],
            b"<a>",
            b"<a></b>",
            b"<a/><b/>",
            b"text",
            b"<a></a>junk",
            b"\xff\xfe",
        ] {
            assert!(parse(doc).is_err(), "{:?}", String::from_utf8_lossy(doc));
        }
    }

    #[test]
    fn rejects_characters_xml_forbids() {
        for doc in [
            &b"<a>\0</a>"[..],
            b"<a>\x01</a>",
            b"<a>&#0;</a>",
            b"<a>&#x1;</a>",
            b"<a><![CDATA[\x02]]></a>",
        ] {
            assert_eq!(parse(doc).expect_err("invalid").code(), S3ErrorCode::MalformedXML);
        }
        assert_eq!(parse(b"<a>\t\r\n&#x9;</a>").expect("valid").text, "\t\r\n\t");
    }

    #[test]
    fn rejects_deep_nesting() {
        let doc = "<a>".repeat(100) + &"</a>".repeat(100);
        assert!(parse(doc.as_bytes()).is_err());
    }

    #[test]
    fn escapes_text() {
        let mut w = XmlWriter::new();
        w.elem("Key", "a<b>&\"c'\u{1}");
        assert!(w.finish().ends_with("<Key>a&lt;b&gt;&amp;&quot;c'&#x1;</Key>"));
    }
}
