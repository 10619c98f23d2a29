//! The `report_question` questions.
