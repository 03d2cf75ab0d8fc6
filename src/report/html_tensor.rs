//! The Tensor Core section of `report.html`.
