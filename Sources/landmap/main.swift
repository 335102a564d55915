print("landmap")
