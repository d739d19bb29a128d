//! Pure parsers: bytes in, typed values out. No IO. (Being implemented.)
