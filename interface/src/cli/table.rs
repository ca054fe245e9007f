//! Aligned text tables for the operator commands' output.

/// `rows` under `header` in aligned columns (two spaces apart, no trailing spaces or
/// newline); the columns listed in `right` align right (numbers), the others left.
#[must_use]
pub fn table<const N: usize>(header: [&str; N], rows: &[[String; N]], right: &[usize]) -> String {
    let header = header.map(str::to_owned);
    let all: Vec<&[String; N]> = std::iter::once(&header).chain(rows).collect();
    let mut widths = [0_usize; N];
    for row in &all {
        for (width, cell) in widths.iter_mut().zip(row.iter()) {
            *width = (*width).max(cell.chars().count());
        }
    }
    all.iter()
        .map(|row| {
            let line: Vec<String> = row
                .iter()
                .zip(widths)
                .enumerate()
                .map(|(i, (cell, width))| {
                    if right.contains(&i) {
                        format!("{cell:>width$}")
                    } else {
                        format!("{cell:<width$}")
                    }
                })
                .collect();
            line.join("  ").trim_end().to_owned()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_as_wide_as_their_widest_cell() {
        let rows = [["7".to_owned(), "ChargePayment".to_owned()]];
        assert_eq!(
            table(["ID", "ACTION"], &rows, &[0]),
            "ID  ACTION\n 7  ChargePayment"
        );
    }
}
