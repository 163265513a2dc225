print("trustgap")
